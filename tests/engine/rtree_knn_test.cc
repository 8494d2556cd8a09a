// placeholder: tests of the R-tree's knn queries (issue 3).
