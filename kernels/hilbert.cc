// placeholder: the hilbert kernel family (see kernels/README.md) is filled in here.
