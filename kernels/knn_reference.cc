// placeholder: scalar reference of the knn kernel family.
