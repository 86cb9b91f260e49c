"""The apps: every console script and the main job, one module each, named after the command
(``robrew-train`` is ``robrew.apps.train``, ``robrew-eval-reward`` is ``robrew.apps.eval_reward``).
They parse a config, call the library floors below, print, and write reports; no library
module imports them."""
