// placeholder: filled in with the R-tree's rtree_knn part (issue 3).
