// placeholder: scalar reference of the ray kernel family.
