"""Everything that runs outside Lambda, never shipped in the layer: the `acuity-sync` CLI (cli/), the local stack
(stack/: embedded AWS from template.yaml, the local gateway, pollers and worker processes), the fakes of Acuity and
the accounting apps (fakes/), and the demo (demo/)."""
