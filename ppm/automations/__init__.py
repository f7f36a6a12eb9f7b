"""Git automations (SPEC §21): what a link change means for its task, and the per-project
switches. Subscribes to links' `LinkChanged` at app start (`init_automations`)."""
