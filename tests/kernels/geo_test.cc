// placeholder: tests of the geo kernel family.
