// placeholder: filled in by the ray kernel family
