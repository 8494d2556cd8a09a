// placeholder: spatial joins (filled by the joins work)
