"""Workshop rooms: one rootless Docker Engine per learner (the room's read-only registry
mirror is :mod:`dockdojo.runner.mirror`; the hub that serves the learners and the
instructor's view is :mod:`dockdojo.runner.hub`).

- :mod:`.config`: the room's settings (where its state lives, the mirror's port, the
  limits of each learner's engine), read from ``room.toml``;
- :mod:`.engines`: a learner's engine, run as that learner's Unix user, with what it
  needs: :mod:`.host` (the server's programs and devices), :mod:`.learners` (learner
  names, accounts checked for rootless Docker, subordinate ids), :mod:`.status` (what
  an engine is doing and using) and :mod:`.reset` (emptying an engine); its cgroup,
  firewall rules, containers limit, user account and processes are
  :mod:`dockdojo.runner.privileged`'s;
- :mod:`.salt`: the room's tag salt, made once with the room and read by root alone;
- :mod:`.pyenv`: the Pythons other users run (learners' servers, graded kernels);
- :mod:`.rehearsal`: ``dockdojo doctor --room``'s dress rehearsal, one lesson solved on a
  throwaway learner's engine.

Rooms are for Linux servers, run as root; a learner's own laptop keeps one engine.
"""

from .config import RoomConfig, load_config

__all__ = ["RoomConfig", "load_config"]
