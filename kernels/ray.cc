// placeholder: the ray kernel family (see kernels/README.md) is filled in here.
