"""Jobs: whole pipelines as library functions (the main job), above training and evaluation; the apps call them."""
