// placeholder: scalar reference of the geo kernel family.
