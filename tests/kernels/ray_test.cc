// placeholder: tests of the ray kernel family.
