// placeholder: tests of the knn kernel family.
