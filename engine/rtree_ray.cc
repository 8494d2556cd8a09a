// placeholder: filled in with the R-tree's rtree_ray part (issue 3).
