// placeholder: the geo kernel family (see kernels/README.md) is filled in here.
