// placeholder: tests of the R-tree's ray queries (issue 3).
