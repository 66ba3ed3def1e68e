"""The room on JupyterHub, and the instructor's view of it.

- :mod:`.hub`: the hub's configuration (``dockdojo room hub-config``) and its hooks,
  which start each learner's engine of the room (:mod:`dockdojo.runner.room`) before
  their server, place their lessons and stop the engine with the server;
- :mod:`.helm`: the same room as Helm values for Zero to JupyterHub on Kubernetes
  (``dockdojo room helm-values``);
- :mod:`.instructor`: the instructor's view, a service of the hub (its routes, who is an
  instructor, the page ``instructor.html``);
- :mod:`.watch`: what the view shows, found with the lessons' own checks on each
  learner's engine, in the background and when a learner's Check asks;
- :mod:`.progress`: the instructor's record of the room (learners, steps, attempts) in a
  SQL database, :class:`~.progress.ProgressStore`.

Nothing here is imported by the learner's kernel; the hub and its service import it.
"""
