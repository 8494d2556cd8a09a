// placeholder: the box_mask kernel family (see kernels/README.md) is filled in here.
