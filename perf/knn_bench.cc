// placeholder: filled in by the knn kernel family
