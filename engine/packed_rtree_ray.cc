// placeholder: filled in with the R-tree's packed_rtree_ray part (issue 3).
