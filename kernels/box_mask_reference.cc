// placeholder: scalar reference of the box_mask kernel family.
