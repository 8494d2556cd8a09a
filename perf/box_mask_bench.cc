// placeholder: filled in by the box_mask kernel family
