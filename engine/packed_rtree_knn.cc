// placeholder: filled in with the R-tree's packed_rtree_knn part (issue 3).
