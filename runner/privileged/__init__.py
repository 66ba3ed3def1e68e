"""The only code of dockdojo that runs commands as root or acts on other users, cgroups,
mounts, firewall rules and other users' processes; everything else asks it.

- :mod:`.run`: the one runner of root commands (argv, fixed ``PATH``, timeout, captured
  output, :class:`~dockdojo.runner.errors.HostError` with the command's stderr) and the
  one lock of host state;
- :mod:`.processes`: the daemonizer (detached, optionally as another user, joined to
  cgroups, with a log), pid files, ending one process, a user's processes, or those
  holding mounts; running a command as another user;
- :mod:`.mounts`: tmpfs work folders and unmounting what engines left;
- :mod:`.users`: the validated :class:`~.users.UserName`, accounts, ``useradd`` and
  ``userdel`` with root's record of the users dockdojo made, runtime folders;
- :mod:`.cgroups`: an engine's or a kernel's memory and process limits;
- :mod:`.firewall`: each learner's published ports, theirs alone;
- :mod:`.authz`: the containers limit, an authorization plugin run as root (a script);
- :mod:`.confine`: a graded kernel's start in its own namespaces (a script).

It imports only :mod:`dockdojo.runner.errors`; ``tests/unit/test_root_boundary.py`` fails
when code elsewhere runs a root command, mounts, kills or changes owners itself.
"""
