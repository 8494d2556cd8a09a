// placeholder: the knn kernel family (see kernels/README.md) is filled in here.
