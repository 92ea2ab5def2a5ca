# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_coracle_global_optspecs
    string join \n storage-driver= h/help V/version
end

function __fish_coracle_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_coracle_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_coracle_using_subcommand
    set -l cmd (__fish_coracle_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c coracle -n "__fish_coracle_needs_command" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_needs_command" -s V -l version -d 'Print version'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "run" -d 'Create and run a new container'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "exec" -d 'Execute a command in a running container'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "attach" -d 'Attach local standard input, output, and error streams to a running container'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "ps" -d 'List containers'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "logs" -d 'Fetch the logs of a container'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "stop" -d 'Stop one or more running containers'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "kill" -d 'Kill one or more running containers'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "wait" -d 'Block until one or more containers stop, then print their exit codes'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "rm" -d 'Remove one or more containers'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "inspect" -d 'Return low-level information on containers'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "start" -d 'Start one or more stopped containers (detached)'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "create" -d 'Create a new container without starting it'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "restart" -d 'Restart one or more containers'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "rename" -d 'Rename a container'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "top" -d 'Display the running processes of a container'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "port" -d 'List port mappings or a specific mapping for the container'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "pause" -d 'Pause all processes within one or more containers'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "unpause" -d 'Unpause all processes within one or more containers'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "container" -d 'Manage containers'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "pull" -d 'Download an image from a registry'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "images" -d 'List images'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "image" -d 'Manage images'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "volume" -d 'Manage volumes'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "network" -d 'Manage networks'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "push" -d 'Upload an image to a registry'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "login" -d 'Log in to a registry'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "logout" -d 'Log out from a registry'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "tag" -d 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "rmi" -d 'Remove one or more images'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "history" -d 'Show the history of an image'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "save" -d 'Save images to a tar archive (docker-archive or oci-archive)'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "load" -d 'Load images from a tar archive'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "import" -d 'Create an image from a root file system tarball'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "diff" -d 'Inspect changes to files or directories on a container\'s filesystem'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "commit" -d 'Create a new image from a container\'s changes'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "export" -d 'Export a container\'s filesystem as a tar archive'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "cp" -d 'Copy files/folders between a container and the local filesystem'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "check" -d 'Check the host for rootless containers and print what to fix'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "info" -d 'Check the host for rootless containers and print what to fix'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "policy" -d 'Manage security policies'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "runtime" -d 'The OCI runtime command line (also installed as coracle-runtime)'
complete -c coracle -n "__fish_coracle_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand run" -l rootfs -d 'Root file system directory of the container (instead of an image)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand run" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to copy it from the caller)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l env-file -d 'Read environment variables from a file (one KEY=VALUE per line)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand run" -s w -l workdir -d 'Working directory inside the container (created if missing)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -s u -l user -d 'User to run as: name|uid[:group|gid]' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -s h -l hostname -d 'Container host name' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -s v -l volume -d 'Bind mount a host path or mount a volume: /HOST:CONTAINER[:ro|rw], NAME:CONTAINER[:ro|rw|nocopy] (a named volume, created on first use), or CONTAINER alone (an anonymous volume)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l mount -d 'Attach a mount: type=bind|volume|tmpfs,source=,target=[,readonly][,volume-nocopy][,tmpfs-size=][,tmpfs-mode=]' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l tmpfs -d 'Mount a tmpfs: PATH[:OPTIONS] (options as for mount, e.g. size=64m,mode=1777)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l name -d 'Assign a name to the container ([a-zA-Z0-9][a-zA-Z0-9_.-]*)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -s l -l label -d 'Set metadata on the container (KEY=VALUE, or KEY for an empty value)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l restart -d 'Restart policy when the container exits: no, on-failure[:N], always, unless-stopped' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l stop-signal -d 'Signal that stops the container (default: the image\'s StopSignal, or SIGTERM)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l stop-timeout -d 'Seconds `stop` waits for the container before it kills it (-1: forever; default 10)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l log-opt -d 'Log options of a detached container: max-size=SIZE (e.g. 10m), max-file=N' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l health-cmd -d 'Command to run to check health (run by `sh -c` in the container)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l health-interval -d 'Time between running the check (e.g. 30s, 1m30s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l health-timeout -d 'Maximum time to allow one check to run' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l health-retries -d 'Consecutive failures needed to report unhealthy' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l health-start-period -d 'Start period for the container to initialize before failures count' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l health-start-interval -d 'Time between running the check during the start period' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -s a -l attach -d 'Attach to STDIN, STDOUT or STDERR (default: stdout and stderr, and stdin with -i)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l entrypoint -d 'Override the entrypoint (the command\'s first word)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l cap-add -d 'Add a capability (e.g. NET_ADMIN, or ALL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l cap-drop -d 'Drop a capability (e.g. CHOWN, or ALL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l security-opt -d 'Security options: seccomp=unconfined|FILE (no filter, or a Docker/OCI JSON profile), no-new-privileges[=BOOL], landlock=unconfined' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l policy -d 'Security policy: a name (see `coracle policy ls`) or a TOML file' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l ulimit -d 'Resource limit: NAME=SOFT[:HARD] (e.g. nofile=1024:2048; overrides the policy\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l network -d 'Network: private (default, alias bridge: NATed by coracle\'s own user-space stack; options as private:mtu=1500,allow_host_loopback=true), none (loopback only), host, or the NAME of a network made by `network create`' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l network-alias -d 'Add a name for the container on its named network (resolved by the network\'s DNS)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -s p -l publish -d 'Publish a container port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], ranges as 8000-8002:80-82' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l dns -d 'DNS server (IPv4, optionally :PORT): the private network\'s resolver 10.0.2.3 forwards to it (default: the host\'s resolvers)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l egress -d 'Egress rule of the private network, in order, first match wins, before the policy\'s: allow=CIDR[:PORTS][/tcp|/udp], deny=CIDR[:PORTS][/tcp|/udp] or host=NAME[:PORTS][/tcp|/udp] (allow NAME\'s IPv4 addresses, resolved on the host when the container is created; a loopback result is the host, 10.0.2.2) (PORTS: 80, 8000-8100, comma lists); with any allow rule the rest is denied, the resolver 10.0.2.3 too unless allowed (allow=10.0.2.3:53/udp)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l add-host -d 'Add a line to /etc/hosts: NAME:IP; NAME:host-gateway is the host (on the private network it also opens the host\'s loopback to the container)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l userns -d 'User namespace mode: keep-id maps your own uid/gid to the same ids inside' -r -f -a "keep-id\t'Map the caller\'s uid and gid to the same ids inside the container'"
complete -c coracle -n "__fish_coracle_using_subcommand run" -l pull -d 'Pull the image: always, missing (when not in the store), or never' -r -f -a "always\t''
missing\t''
never\t''"
complete -c coracle -n "__fish_coracle_using_subcommand run" -l platform -d 'Platform of the image to pull: os/arch[/variant] (default: this host\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand run" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand run" -l read-only -d 'Mount the container\'s root file system read-only'
complete -c coracle -n "__fish_coracle_using_subcommand run" -l rm -d 'Remove the container\'s state when it exits'
complete -c coracle -n "__fish_coracle_using_subcommand run" -s d -l detach -d 'Run the container in the background under a monitor and print its id'
complete -c coracle -n "__fish_coracle_using_subcommand run" -l no-healthcheck -d 'Disable any container-specified HEALTHCHECK'
complete -c coracle -n "__fish_coracle_using_subcommand run" -s i -l interactive -d 'Keep standard input open'
complete -c coracle -n "__fish_coracle_using_subcommand run" -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c coracle -n "__fish_coracle_using_subcommand run" -l init -d 'Run coracle\'s minimal init as pid 1: it reaps zombies and forwards signals'
complete -c coracle -n "__fish_coracle_using_subcommand run" -l privileged -d 'Give the container every capability of its user namespace and no masked paths'
complete -c coracle -n "__fish_coracle_using_subcommand run" -s P -l publish-all -d 'Publish every port the image exposes on a random host port'
complete -c coracle -n "__fish_coracle_using_subcommand run" -l help -d 'Print help'
complete -c coracle -n "__fish_coracle_using_subcommand exec" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to copy it from the caller)' -r
complete -c coracle -n "__fish_coracle_using_subcommand exec" -l env-file -d 'Read environment variables from a file (one KEY=VALUE per line)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand exec" -s w -l workdir -d 'Working directory inside the container (default: the container\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand exec" -s u -l user -d 'User to run as: name|uid[:group|gid] (default: the container\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand exec" -l kill-after -d 'Kill the command after this long (used by health checks)' -r
complete -c coracle -n "__fish_coracle_using_subcommand exec" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand exec" -s d -l detach -d 'Run the command in the background (nothing is attached)'
complete -c coracle -n "__fish_coracle_using_subcommand exec" -s i -l interactive -d 'Keep standard input open'
complete -c coracle -n "__fish_coracle_using_subcommand exec" -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c coracle -n "__fish_coracle_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand attach" -l sig-proxy -d 'Proxy received signals to the container (without a terminal)' -r -f -a "true\t''
false\t''"
complete -c coracle -n "__fish_coracle_using_subcommand attach" -l detach-keys -d 'Key sequence for detaching (default ctrl-p,ctrl-q)' -r
complete -c coracle -n "__fish_coracle_using_subcommand attach" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand attach" -l no-stdin -d 'Do not attach standard input'
complete -c coracle -n "__fish_coracle_using_subcommand attach" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand ps" -s n -l last -d 'Show the N last created containers (includes all states)' -r
complete -c coracle -n "__fish_coracle_using_subcommand ps" -s f -l filter -d 'Filter output: status=, name=, label=KEY[=VALUE], ancestor=, id=' -r
complete -c coracle -n "__fish_coracle_using_subcommand ps" -l format -d 'Output format: table (default), json (one object per line), or a template such as \'{{.ID}}\\t{{.Names}}\' (prefix "table " for a table)' -r
complete -c coracle -n "__fish_coracle_using_subcommand ps" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand ps" -s a -l all -d 'Show all containers (default shows just running)'
complete -c coracle -n "__fish_coracle_using_subcommand ps" -s q -l quiet -d 'Only display container ids'
complete -c coracle -n "__fish_coracle_using_subcommand ps" -s l -l latest -d 'Show the latest created container (includes all states)'
complete -c coracle -n "__fish_coracle_using_subcommand ps" -l no-trunc -d 'Don\'t truncate output'
complete -c coracle -n "__fish_coracle_using_subcommand ps" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand logs" -s n -l tail -d 'Number of lines to show from the end of the logs, or "all"' -r
complete -c coracle -n "__fish_coracle_using_subcommand logs" -l since -d 'Show logs since a time (RFC 3339, Unix timestamp) or a duration before now (e.g. 10m)' -r
complete -c coracle -n "__fish_coracle_using_subcommand logs" -l until -d 'Show logs before a time (RFC 3339, Unix timestamp) or a duration before now (e.g. 10m)' -r
complete -c coracle -n "__fish_coracle_using_subcommand logs" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand logs" -s f -l follow -d 'Follow log output until the container exits'
complete -c coracle -n "__fish_coracle_using_subcommand logs" -s t -l timestamps -d 'Show timestamps'
complete -c coracle -n "__fish_coracle_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand stop" -s t -l time -d 'Seconds to wait before killing the container (default: its --stop-timeout, else 10; -1: wait forever)' -r
complete -c coracle -n "__fish_coracle_using_subcommand stop" -s s -l signal -d 'Signal to send first (default: the container\'s --stop-signal, else the image\'s StopSignal, else SIGTERM)' -r
complete -c coracle -n "__fish_coracle_using_subcommand stop" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand kill" -s s -l signal -d 'Signal to send to the container' -r
complete -c coracle -n "__fish_coracle_using_subcommand kill" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand kill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand wait" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand rm" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand rm" -s f -l force -d 'Force the removal of a running container (kills it)'
complete -c coracle -n "__fish_coracle_using_subcommand rm" -s v -l volumes -d 'Remove the anonymous volumes of the container'
complete -c coracle -n "__fish_coracle_using_subcommand rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand inspect" -s f -l format -d 'Format the output: {{.Field.Sub}} and {{json .Field}} fields of the JSON' -r
complete -c coracle -n "__fish_coracle_using_subcommand inspect" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand start" -l detach-keys -d 'Key sequence for detaching (default ctrl-p,ctrl-q)' -r
complete -c coracle -n "__fish_coracle_using_subcommand start" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand start" -s a -l attach -d 'Attach stdout/stderr (and the terminal) and wait for the container'
complete -c coracle -n "__fish_coracle_using_subcommand start" -s i -l interactive -d 'Attach stdin (with -a)'
complete -c coracle -n "__fish_coracle_using_subcommand start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand create" -l rootfs -d 'Root file system directory of the container (instead of an image)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand create" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to copy it from the caller)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l env-file -d 'Read environment variables from a file (one KEY=VALUE per line)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand create" -s w -l workdir -d 'Working directory inside the container (created if missing)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -s u -l user -d 'User to run as: name|uid[:group|gid]' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -s h -l hostname -d 'Container host name' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -s v -l volume -d 'Bind mount a host path or mount a volume: /HOST:CONTAINER[:ro|rw], NAME:CONTAINER[:ro|rw|nocopy] (a named volume, created on first use), or CONTAINER alone (an anonymous volume)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l mount -d 'Attach a mount: type=bind|volume|tmpfs,source=,target=[,readonly][,volume-nocopy][,tmpfs-size=][,tmpfs-mode=]' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l tmpfs -d 'Mount a tmpfs: PATH[:OPTIONS] (options as for mount, e.g. size=64m,mode=1777)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l name -d 'Assign a name to the container ([a-zA-Z0-9][a-zA-Z0-9_.-]*)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -s l -l label -d 'Set metadata on the container (KEY=VALUE, or KEY for an empty value)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l restart -d 'Restart policy when the container exits: no, on-failure[:N], always, unless-stopped' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l stop-signal -d 'Signal that stops the container (default: the image\'s StopSignal, or SIGTERM)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l stop-timeout -d 'Seconds `stop` waits for the container before it kills it (-1: forever; default 10)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l log-opt -d 'Log options of a detached container: max-size=SIZE (e.g. 10m), max-file=N' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l health-cmd -d 'Command to run to check health (run by `sh -c` in the container)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l health-interval -d 'Time between running the check (e.g. 30s, 1m30s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l health-timeout -d 'Maximum time to allow one check to run' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l health-retries -d 'Consecutive failures needed to report unhealthy' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l health-start-period -d 'Start period for the container to initialize before failures count' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l health-start-interval -d 'Time between running the check during the start period' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -s a -l attach -d 'Attach to STDIN, STDOUT or STDERR (default: stdout and stderr, and stdin with -i)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l entrypoint -d 'Override the entrypoint (the command\'s first word)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l cap-add -d 'Add a capability (e.g. NET_ADMIN, or ALL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l cap-drop -d 'Drop a capability (e.g. CHOWN, or ALL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l security-opt -d 'Security options: seccomp=unconfined|FILE (no filter, or a Docker/OCI JSON profile), no-new-privileges[=BOOL], landlock=unconfined' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l policy -d 'Security policy: a name (see `coracle policy ls`) or a TOML file' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l ulimit -d 'Resource limit: NAME=SOFT[:HARD] (e.g. nofile=1024:2048; overrides the policy\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l network -d 'Network: private (default, alias bridge: NATed by coracle\'s own user-space stack; options as private:mtu=1500,allow_host_loopback=true), none (loopback only), host, or the NAME of a network made by `network create`' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l network-alias -d 'Add a name for the container on its named network (resolved by the network\'s DNS)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -s p -l publish -d 'Publish a container port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], ranges as 8000-8002:80-82' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l dns -d 'DNS server (IPv4, optionally :PORT): the private network\'s resolver 10.0.2.3 forwards to it (default: the host\'s resolvers)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l egress -d 'Egress rule of the private network, in order, first match wins, before the policy\'s: allow=CIDR[:PORTS][/tcp|/udp], deny=CIDR[:PORTS][/tcp|/udp] or host=NAME[:PORTS][/tcp|/udp] (allow NAME\'s IPv4 addresses, resolved on the host when the container is created; a loopback result is the host, 10.0.2.2) (PORTS: 80, 8000-8100, comma lists); with any allow rule the rest is denied, the resolver 10.0.2.3 too unless allowed (allow=10.0.2.3:53/udp)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l add-host -d 'Add a line to /etc/hosts: NAME:IP; NAME:host-gateway is the host (on the private network it also opens the host\'s loopback to the container)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l userns -d 'User namespace mode: keep-id maps your own uid/gid to the same ids inside' -r -f -a "keep-id\t'Map the caller\'s uid and gid to the same ids inside the container'"
complete -c coracle -n "__fish_coracle_using_subcommand create" -l pull -d 'Pull the image: always, missing (when not in the store), or never' -r -f -a "always\t''
missing\t''
never\t''"
complete -c coracle -n "__fish_coracle_using_subcommand create" -l platform -d 'Platform of the image to pull: os/arch[/variant] (default: this host\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand create" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand create" -l read-only -d 'Mount the container\'s root file system read-only'
complete -c coracle -n "__fish_coracle_using_subcommand create" -l rm -d 'Remove the container\'s state when it exits'
complete -c coracle -n "__fish_coracle_using_subcommand create" -l no-healthcheck -d 'Disable any container-specified HEALTHCHECK'
complete -c coracle -n "__fish_coracle_using_subcommand create" -s i -l interactive -d 'Keep standard input open'
complete -c coracle -n "__fish_coracle_using_subcommand create" -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c coracle -n "__fish_coracle_using_subcommand create" -l init -d 'Run coracle\'s minimal init as pid 1: it reaps zombies and forwards signals'
complete -c coracle -n "__fish_coracle_using_subcommand create" -l privileged -d 'Give the container every capability of its user namespace and no masked paths'
complete -c coracle -n "__fish_coracle_using_subcommand create" -s P -l publish-all -d 'Publish every port the image exposes on a random host port'
complete -c coracle -n "__fish_coracle_using_subcommand create" -l help -d 'Print help'
complete -c coracle -n "__fish_coracle_using_subcommand create" -s d -l detach -d 'Run the container in the background under a monitor and print its id'
complete -c coracle -n "__fish_coracle_using_subcommand restart" -s t -l time -d 'Seconds to wait before killing the container (default: its --stop-timeout, else 10; -1: wait forever)' -r
complete -c coracle -n "__fish_coracle_using_subcommand restart" -s s -l signal -d 'Signal to send first (default: the container\'s --stop-signal, else the image\'s StopSignal, else SIGTERM)' -r
complete -c coracle -n "__fish_coracle_using_subcommand restart" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand rename" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand rename" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand top" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand top" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand port" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand port" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand pause" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand unpause" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand unpause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "run" -d 'Create and run a new container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "exec" -d 'Execute a command in a running container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "attach" -d 'Attach local standard input, output, and error streams to a running container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "ls" -d 'List containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "ps" -d 'List containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "list" -d 'List containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "logs" -d 'Fetch the logs of a container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "stop" -d 'Stop one or more running containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "kill" -d 'Kill one or more running containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "wait" -d 'Block until one or more containers stop, then print their exit codes'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "rm" -d 'Remove one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "remove" -d 'Remove one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "inspect" -d 'Display detailed information on one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "start" -d 'Start one or more stopped containers (detached)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "create" -d 'Create a new container without starting it'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "restart" -d 'Restart one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "rename" -d 'Rename a container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "pause" -d 'Pause all processes within one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "unpause" -d 'Unpause all processes within one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "prune" -d 'Remove all stopped containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "diff" -d 'Inspect changes to files or directories on a container\'s filesystem'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "commit" -d 'Create a new image from a container\'s changes'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "export" -d 'Export a container\'s filesystem as a tar archive'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "cp" -d 'Copy files/folders between a container and the local filesystem'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "top" -d 'Display the running processes of a container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "port" -d 'List port mappings or a specific mapping for the container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and not __fish_seen_subcommand_from run exec attach ls ps list logs stop kill wait rm remove inspect start create restart rename pause unpause prune diff commit export cp top port help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l rootfs -d 'Root file system directory of the container (instead of an image)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to copy it from the caller)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l env-file -d 'Read environment variables from a file (one KEY=VALUE per line)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s w -l workdir -d 'Working directory inside the container (created if missing)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s u -l user -d 'User to run as: name|uid[:group|gid]' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s h -l hostname -d 'Container host name' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s v -l volume -d 'Bind mount a host path or mount a volume: /HOST:CONTAINER[:ro|rw], NAME:CONTAINER[:ro|rw|nocopy] (a named volume, created on first use), or CONTAINER alone (an anonymous volume)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l mount -d 'Attach a mount: type=bind|volume|tmpfs,source=,target=[,readonly][,volume-nocopy][,tmpfs-size=][,tmpfs-mode=]' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l tmpfs -d 'Mount a tmpfs: PATH[:OPTIONS] (options as for mount, e.g. size=64m,mode=1777)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l name -d 'Assign a name to the container ([a-zA-Z0-9][a-zA-Z0-9_.-]*)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s l -l label -d 'Set metadata on the container (KEY=VALUE, or KEY for an empty value)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l restart -d 'Restart policy when the container exits: no, on-failure[:N], always, unless-stopped' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l stop-signal -d 'Signal that stops the container (default: the image\'s StopSignal, or SIGTERM)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l stop-timeout -d 'Seconds `stop` waits for the container before it kills it (-1: forever; default 10)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l log-opt -d 'Log options of a detached container: max-size=SIZE (e.g. 10m), max-file=N' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l health-cmd -d 'Command to run to check health (run by `sh -c` in the container)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l health-interval -d 'Time between running the check (e.g. 30s, 1m30s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l health-timeout -d 'Maximum time to allow one check to run' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l health-retries -d 'Consecutive failures needed to report unhealthy' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l health-start-period -d 'Start period for the container to initialize before failures count' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l health-start-interval -d 'Time between running the check during the start period' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s a -l attach -d 'Attach to STDIN, STDOUT or STDERR (default: stdout and stderr, and stdin with -i)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l entrypoint -d 'Override the entrypoint (the command\'s first word)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l cap-add -d 'Add a capability (e.g. NET_ADMIN, or ALL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l cap-drop -d 'Drop a capability (e.g. CHOWN, or ALL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l security-opt -d 'Security options: seccomp=unconfined|FILE (no filter, or a Docker/OCI JSON profile), no-new-privileges[=BOOL], landlock=unconfined' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l policy -d 'Security policy: a name (see `coracle policy ls`) or a TOML file' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l ulimit -d 'Resource limit: NAME=SOFT[:HARD] (e.g. nofile=1024:2048; overrides the policy\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l network -d 'Network: private (default, alias bridge: NATed by coracle\'s own user-space stack; options as private:mtu=1500,allow_host_loopback=true), none (loopback only), host, or the NAME of a network made by `network create`' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l network-alias -d 'Add a name for the container on its named network (resolved by the network\'s DNS)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s p -l publish -d 'Publish a container port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], ranges as 8000-8002:80-82' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l dns -d 'DNS server (IPv4, optionally :PORT): the private network\'s resolver 10.0.2.3 forwards to it (default: the host\'s resolvers)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l egress -d 'Egress rule of the private network, in order, first match wins, before the policy\'s: allow=CIDR[:PORTS][/tcp|/udp], deny=CIDR[:PORTS][/tcp|/udp] or host=NAME[:PORTS][/tcp|/udp] (allow NAME\'s IPv4 addresses, resolved on the host when the container is created; a loopback result is the host, 10.0.2.2) (PORTS: 80, 8000-8100, comma lists); with any allow rule the rest is denied, the resolver 10.0.2.3 too unless allowed (allow=10.0.2.3:53/udp)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l add-host -d 'Add a line to /etc/hosts: NAME:IP; NAME:host-gateway is the host (on the private network it also opens the host\'s loopback to the container)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l userns -d 'User namespace mode: keep-id maps your own uid/gid to the same ids inside' -r -f -a "keep-id\t'Map the caller\'s uid and gid to the same ids inside the container'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l pull -d 'Pull the image: always, missing (when not in the store), or never' -r -f -a "always\t''
missing\t''
never\t''"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l platform -d 'Platform of the image to pull: os/arch[/variant] (default: this host\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l read-only -d 'Mount the container\'s root file system read-only'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l rm -d 'Remove the container\'s state when it exits'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s d -l detach -d 'Run the container in the background under a monitor and print its id'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l no-healthcheck -d 'Disable any container-specified HEALTHCHECK'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s i -l interactive -d 'Keep standard input open'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l init -d 'Run coracle\'s minimal init as pid 1: it reaps zombies and forwards signals'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l privileged -d 'Give the container every capability of its user namespace and no masked paths'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -s P -l publish-all -d 'Publish every port the image exposes on a random host port'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from run" -l help -d 'Print help'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from exec" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to copy it from the caller)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from exec" -l env-file -d 'Read environment variables from a file (one KEY=VALUE per line)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from exec" -s w -l workdir -d 'Working directory inside the container (default: the container\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from exec" -s u -l user -d 'User to run as: name|uid[:group|gid] (default: the container\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from exec" -l kill-after -d 'Kill the command after this long (used by health checks)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from exec" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from exec" -s d -l detach -d 'Run the command in the background (nothing is attached)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from exec" -s i -l interactive -d 'Keep standard input open'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from exec" -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from attach" -l sig-proxy -d 'Proxy received signals to the container (without a terminal)' -r -f -a "true\t''
false\t''"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from attach" -l detach-keys -d 'Key sequence for detaching (default ctrl-p,ctrl-q)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from attach" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from attach" -l no-stdin -d 'Do not attach standard input'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from attach" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ls" -s n -l last -d 'Show the N last created containers (includes all states)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ls" -s f -l filter -d 'Filter output: status=, name=, label=KEY[=VALUE], ancestor=, id=' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ls" -l format -d 'Output format: table (default), json (one object per line), or a template such as \'{{.ID}}\\t{{.Names}}\' (prefix "table " for a table)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ls" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ls" -s a -l all -d 'Show all containers (default shows just running)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only display container ids'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ls" -s l -l latest -d 'Show the latest created container (includes all states)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ls" -l no-trunc -d 'Don\'t truncate output'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ps" -s n -l last -d 'Show the N last created containers (includes all states)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ps" -s f -l filter -d 'Filter output: status=, name=, label=KEY[=VALUE], ancestor=, id=' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ps" -l format -d 'Output format: table (default), json (one object per line), or a template such as \'{{.ID}}\\t{{.Names}}\' (prefix "table " for a table)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ps" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ps" -s a -l all -d 'Show all containers (default shows just running)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ps" -s q -l quiet -d 'Only display container ids'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ps" -s l -l latest -d 'Show the latest created container (includes all states)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ps" -l no-trunc -d 'Don\'t truncate output'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from ps" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from list" -s n -l last -d 'Show the N last created containers (includes all states)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from list" -s f -l filter -d 'Filter output: status=, name=, label=KEY[=VALUE], ancestor=, id=' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from list" -l format -d 'Output format: table (default), json (one object per line), or a template such as \'{{.ID}}\\t{{.Names}}\' (prefix "table " for a table)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from list" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from list" -s a -l all -d 'Show all containers (default shows just running)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only display container ids'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from list" -s l -l latest -d 'Show the latest created container (includes all states)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from list" -l no-trunc -d 'Don\'t truncate output'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from logs" -s n -l tail -d 'Number of lines to show from the end of the logs, or "all"' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from logs" -l since -d 'Show logs since a time (RFC 3339, Unix timestamp) or a duration before now (e.g. 10m)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from logs" -l until -d 'Show logs before a time (RFC 3339, Unix timestamp) or a duration before now (e.g. 10m)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from logs" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from logs" -s f -l follow -d 'Follow log output until the container exits'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from logs" -s t -l timestamps -d 'Show timestamps'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from stop" -s t -l time -d 'Seconds to wait before killing the container (default: its --stop-timeout, else 10; -1: wait forever)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from stop" -s s -l signal -d 'Signal to send first (default: the container\'s --stop-signal, else the image\'s StopSignal, else SIGTERM)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from stop" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from kill" -s s -l signal -d 'Signal to send to the container' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from kill" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from kill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from wait" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from rm" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from rm" -s f -l force -d 'Force the removal of a running container (kills it)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from rm" -s v -l volumes -d 'Remove the anonymous volumes of the container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from remove" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from remove" -s f -l force -d 'Force the removal of a running container (kills it)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from remove" -s v -l volumes -d 'Remove the anonymous volumes of the container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from inspect" -s f -l format -d 'Format the output: {{.Field.Sub}} and {{json .Field}} fields of the JSON' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from inspect" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from start" -l detach-keys -d 'Key sequence for detaching (default ctrl-p,ctrl-q)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from start" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from start" -s a -l attach -d 'Attach stdout/stderr (and the terminal) and wait for the container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from start" -s i -l interactive -d 'Attach stdin (with -a)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l rootfs -d 'Root file system directory of the container (instead of an image)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to copy it from the caller)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l env-file -d 'Read environment variables from a file (one KEY=VALUE per line)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s w -l workdir -d 'Working directory inside the container (created if missing)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s u -l user -d 'User to run as: name|uid[:group|gid]' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s h -l hostname -d 'Container host name' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s v -l volume -d 'Bind mount a host path or mount a volume: /HOST:CONTAINER[:ro|rw], NAME:CONTAINER[:ro|rw|nocopy] (a named volume, created on first use), or CONTAINER alone (an anonymous volume)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l mount -d 'Attach a mount: type=bind|volume|tmpfs,source=,target=[,readonly][,volume-nocopy][,tmpfs-size=][,tmpfs-mode=]' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l tmpfs -d 'Mount a tmpfs: PATH[:OPTIONS] (options as for mount, e.g. size=64m,mode=1777)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l name -d 'Assign a name to the container ([a-zA-Z0-9][a-zA-Z0-9_.-]*)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s l -l label -d 'Set metadata on the container (KEY=VALUE, or KEY for an empty value)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l restart -d 'Restart policy when the container exits: no, on-failure[:N], always, unless-stopped' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l stop-signal -d 'Signal that stops the container (default: the image\'s StopSignal, or SIGTERM)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l stop-timeout -d 'Seconds `stop` waits for the container before it kills it (-1: forever; default 10)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l log-opt -d 'Log options of a detached container: max-size=SIZE (e.g. 10m), max-file=N' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l health-cmd -d 'Command to run to check health (run by `sh -c` in the container)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l health-interval -d 'Time between running the check (e.g. 30s, 1m30s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l health-timeout -d 'Maximum time to allow one check to run' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l health-retries -d 'Consecutive failures needed to report unhealthy' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l health-start-period -d 'Start period for the container to initialize before failures count' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l health-start-interval -d 'Time between running the check during the start period' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s a -l attach -d 'Attach to STDIN, STDOUT or STDERR (default: stdout and stderr, and stdin with -i)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l entrypoint -d 'Override the entrypoint (the command\'s first word)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l cap-add -d 'Add a capability (e.g. NET_ADMIN, or ALL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l cap-drop -d 'Drop a capability (e.g. CHOWN, or ALL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l security-opt -d 'Security options: seccomp=unconfined|FILE (no filter, or a Docker/OCI JSON profile), no-new-privileges[=BOOL], landlock=unconfined' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l policy -d 'Security policy: a name (see `coracle policy ls`) or a TOML file' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l ulimit -d 'Resource limit: NAME=SOFT[:HARD] (e.g. nofile=1024:2048; overrides the policy\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l network -d 'Network: private (default, alias bridge: NATed by coracle\'s own user-space stack; options as private:mtu=1500,allow_host_loopback=true), none (loopback only), host, or the NAME of a network made by `network create`' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l network-alias -d 'Add a name for the container on its named network (resolved by the network\'s DNS)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s p -l publish -d 'Publish a container port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], ranges as 8000-8002:80-82' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l dns -d 'DNS server (IPv4, optionally :PORT): the private network\'s resolver 10.0.2.3 forwards to it (default: the host\'s resolvers)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l egress -d 'Egress rule of the private network, in order, first match wins, before the policy\'s: allow=CIDR[:PORTS][/tcp|/udp], deny=CIDR[:PORTS][/tcp|/udp] or host=NAME[:PORTS][/tcp|/udp] (allow NAME\'s IPv4 addresses, resolved on the host when the container is created; a loopback result is the host, 10.0.2.2) (PORTS: 80, 8000-8100, comma lists); with any allow rule the rest is denied, the resolver 10.0.2.3 too unless allowed (allow=10.0.2.3:53/udp)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l add-host -d 'Add a line to /etc/hosts: NAME:IP; NAME:host-gateway is the host (on the private network it also opens the host\'s loopback to the container)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l userns -d 'User namespace mode: keep-id maps your own uid/gid to the same ids inside' -r -f -a "keep-id\t'Map the caller\'s uid and gid to the same ids inside the container'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l pull -d 'Pull the image: always, missing (when not in the store), or never' -r -f -a "always\t''
missing\t''
never\t''"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l platform -d 'Platform of the image to pull: os/arch[/variant] (default: this host\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l read-only -d 'Mount the container\'s root file system read-only'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l rm -d 'Remove the container\'s state when it exits'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l no-healthcheck -d 'Disable any container-specified HEALTHCHECK'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s i -l interactive -d 'Keep standard input open'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l init -d 'Run coracle\'s minimal init as pid 1: it reaps zombies and forwards signals'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l privileged -d 'Give the container every capability of its user namespace and no masked paths'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s P -l publish-all -d 'Publish every port the image exposes on a random host port'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -l help -d 'Print help'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from create" -s d -l detach -d 'Run the container in the background under a monitor and print its id'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from restart" -s t -l time -d 'Seconds to wait before killing the container (default: its --stop-timeout, else 10; -1: wait forever)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from restart" -s s -l signal -d 'Signal to send first (default: the container\'s --stop-signal, else the image\'s StopSignal, else SIGTERM)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from restart" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from rename" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from rename" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from pause" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from unpause" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from unpause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from prune" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not prompt for confirmation'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from diff" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from commit" -s a -l author -d 'Author (e.g. "Jane Doe <jane@example.com>")' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from commit" -s c -l change -d 'Apply a Dockerfile instruction to the image\'s config (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from commit" -s m -l message -d 'Commit message' -r
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from commit" -s p -l pause -d 'Pause the container during commit (accepted for Docker compatibility; the container\'s files are read as they are)' -r -f -a "true\t''
false\t''"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from commit" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from commit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to a file instead of standard output' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from export" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from cp" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from cp" -s a -l archive -d 'Archive mode (copy all uid/gid information)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from cp" -s L -l follow-link -d 'Always follow symbol link in SRC_PATH'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from cp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from top" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from top" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from port" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from port" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "run" -d 'Create and run a new container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "exec" -d 'Execute a command in a running container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "attach" -d 'Attach local standard input, output, and error streams to a running container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "logs" -d 'Fetch the logs of a container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop one or more running containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "kill" -d 'Kill one or more running containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "wait" -d 'Block until one or more containers stop, then print their exit codes'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Display detailed information on one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "start" -d 'Start one or more stopped containers (detached)'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a new container without starting it'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "restart" -d 'Restart one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "rename" -d 'Rename a container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Pause all processes within one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "unpause" -d 'Unpause all processes within one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove all stopped containers'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Inspect changes to files or directories on a container\'s filesystem'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "commit" -d 'Create a new image from a container\'s changes'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export a container\'s filesystem as a tar archive'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "cp" -d 'Copy files/folders between a container and the local filesystem'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "top" -d 'Display the running processes of a container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "port" -d 'List port mappings or a specific mapping for the container'
complete -c coracle -n "__fish_coracle_using_subcommand container; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand pull" -l platform -d 'Platform to pull from a multi-platform image: os/arch[/variant] (default: this host\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand pull" -l tls-verify -d 'Allow plain HTTP and unverified registries for this pull (like Podman\'s --tls-verify=false)' -r -f -a "true\t''
false\t''"
complete -c coracle -n "__fish_coracle_using_subcommand pull" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand pull" -s q -l quiet -d 'Print only the image name'
complete -c coracle -n "__fish_coracle_using_subcommand pull" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand images" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand images" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand images" -s a -l all -d 'Show all images (coracle keeps no intermediate images, so the same as without)'
complete -c coracle -n "__fish_coracle_using_subcommand images" -s q -l quiet -d 'Only show image ids'
complete -c coracle -n "__fish_coracle_using_subcommand images" -l digests -d 'Show digests'
complete -c coracle -n "__fish_coracle_using_subcommand images" -l no-trunc -d 'Don\'t truncate ids'
complete -c coracle -n "__fish_coracle_using_subcommand images" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "ls" -d 'List images'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "list" -d 'List images'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "pull" -d 'Download an image from a registry'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "tag" -d 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "rm" -d 'Remove one or more images'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "remove" -d 'Remove one or more images'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "inspect" -d 'Display detailed information on one or more images'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "history" -d 'Show the history of an image'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "prune" -d 'Remove unused images'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "push" -d 'Upload an image to a registry'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "save" -d 'Save images to a tar archive (docker-archive or oci-archive)'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "load" -d 'Load images from a tar archive'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "import" -d 'Create an image from a root file system tarball'
complete -c coracle -n "__fish_coracle_using_subcommand image; and not __fish_seen_subcommand_from ls list pull tag rm remove inspect history prune push save load import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from ls" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from ls" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from ls" -s a -l all -d 'Show all images (coracle keeps no intermediate images, so the same as without)'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only show image ids'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from ls" -l digests -d 'Show digests'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from ls" -l no-trunc -d 'Don\'t truncate ids'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from list" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from list" -s a -l all -d 'Show all images (coracle keeps no intermediate images, so the same as without)'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only show image ids'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from list" -l digests -d 'Show digests'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from list" -l no-trunc -d 'Don\'t truncate ids'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from pull" -l platform -d 'Platform to pull from a multi-platform image: os/arch[/variant] (default: this host\'s)' -r
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from pull" -l tls-verify -d 'Allow plain HTTP and unverified registries for this pull (like Podman\'s --tls-verify=false)' -r -f -a "true\t''
false\t''"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from pull" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from pull" -s q -l quiet -d 'Print only the image name'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from tag" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from tag" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from rm" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from rm" -s f -l force -d 'Remove the image even when a container uses it or it has several names'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from remove" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from remove" -s f -l force -d 'Remove the image even when a container uses it or it has several names'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from inspect" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from history" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from history" -l no-trunc -d 'Don\'t truncate output'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from history" -s q -l quiet -d 'Only show image ids'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from prune" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from prune" -s a -l all -d 'Remove all images no container uses, not just dangling ones'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not prompt for confirmation'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from push" -l tls-verify -d 'Allow plain HTTP and unverified registries for this push (like Podman\'s --tls-verify=false)' -r -f -a "true\t''
false\t''"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from push" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from push" -s q -l quiet -d 'Print only the digest'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from save" -s o -l output -d 'Write to a file instead of standard output' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from save" -l format -d 'Archive format' -r -f -a "docker-archive\t''
oci-archive\t''"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from save" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from save" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from load" -s i -l input -d 'Read from a file instead of standard input (docker-archive or oci-archive, plain, gzip or zstd)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from load" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from load" -s q -l quiet -d 'Print only the loaded names'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from load" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from import" -s c -l change -d 'Apply a Dockerfile instruction to the image\'s config (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from import" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List images'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "pull" -d 'Download an image from a registry'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "tag" -d 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove one or more images'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Display detailed information on one or more images'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "history" -d 'Show the history of an image'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove unused images'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "push" -d 'Upload an image to a registry'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "save" -d 'Save images to a tar archive (docker-archive or oci-archive)'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "load" -d 'Load images from a tar archive'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "import" -d 'Create an image from a root file system tarball'
complete -c coracle -n "__fish_coracle_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and not __fish_seen_subcommand_from create ls list inspect rm remove prune help" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand volume; and not __fish_seen_subcommand_from create ls list inspect rm remove prune help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and not __fish_seen_subcommand_from create ls list inspect rm remove prune help" -f -a "create" -d 'Create a volume'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and not __fish_seen_subcommand_from create ls list inspect rm remove prune help" -f -a "ls" -d 'List volumes'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and not __fish_seen_subcommand_from create ls list inspect rm remove prune help" -f -a "list" -d 'List volumes'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and not __fish_seen_subcommand_from create ls list inspect rm remove prune help" -f -a "inspect" -d 'Display detailed information on one or more volumes'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and not __fish_seen_subcommand_from create ls list inspect rm remove prune help" -f -a "rm" -d 'Remove one or more volumes'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and not __fish_seen_subcommand_from create ls list inspect rm remove prune help" -f -a "remove" -d 'Remove one or more volumes'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and not __fish_seen_subcommand_from create ls list inspect rm remove prune help" -f -a "prune" -d 'Remove unused volumes (anonymous ones only, unless -a)'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and not __fish_seen_subcommand_from create ls list inspect rm remove prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from create" -s d -l driver -d 'Volume driver (only "local")' -r
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from create" -l label -d 'Set metadata on the volume (KEY=VALUE)' -r
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from create" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from ls" -s f -l filter -d 'Filter output: name=, label=KEY[=VALUE], dangling=true|false, driver=local' -r
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from ls" -l format -d 'Output format: table (default), json (one object per line), or a template such as \'{{.Name}}\'' -r
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from ls" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only display volume names'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from list" -s f -l filter -d 'Filter output: name=, label=KEY[=VALUE], dangling=true|false, driver=local' -r
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from list" -l format -d 'Output format: table (default), json (one object per line), or a template such as \'{{.Name}}\'' -r
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from list" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only display volume names'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from inspect" -s f -l format -d 'Format the output: {{.Field}} and {{json .Field}} fields of the JSON' -r
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from inspect" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from rm" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from rm" -s f -l force -d 'Do not complain about volumes that do not exist'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from remove" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from remove" -s f -l force -d 'Do not complain about volumes that do not exist'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from prune" -l filter -d 'Filter: label=KEY[=VALUE]' -r
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from prune" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from prune" -s a -l all -d 'Remove all unused volumes, not only anonymous ones'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not prompt for confirmation'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a volume'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List volumes'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Display detailed information on one or more volumes'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove one or more volumes'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove unused volumes (anonymous ones only, unless -a)'
complete -c coracle -n "__fish_coracle_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -f -a "create" -d 'Create a network'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -f -a "ls" -d 'List networks'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -f -a "list" -d 'List networks'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -f -a "inspect" -d 'Display detailed information on one or more networks'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -f -a "rm" -d 'Remove one or more networks'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -f -a "remove" -d 'Remove one or more networks'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -f -a "prune" -d 'Remove all networks no container uses'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -f -a "connect" -d 'Connect a created or stopped container to a network'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -f -a "disconnect" -d 'Disconnect a created or stopped container from a network'
complete -c coracle -n "__fish_coracle_using_subcommand network; and not __fish_seen_subcommand_from create ls list inspect rm remove prune connect disconnect help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from create" -s d -l driver -d 'Driver (only "bridge": coracle\'s user-space switch)' -r
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from create" -l subnet -d 'Subnet in CIDR form (default: the first free 10.89.N.0/24)' -r
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from create" -l gateway -d 'The gateway (and DNS) address in the subnet (default: its first address)' -r
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from create" -s o -l opt -d 'Driver options: mtu=N' -r
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from create" -l label -d 'Set metadata on the network (KEY=VALUE)' -r
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from create" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from create" -l internal -d 'No way out: no NAT, no published ports, only the network\'s containers'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from ls" -s f -l filter -d 'Filter output: name=, id=, driver=bridge' -r
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from ls" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only display network IDs'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from ls" -l no-trunc -d 'Do not truncate the output'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from list" -s f -l filter -d 'Filter output: name=, id=, driver=bridge' -r
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from list" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only display network IDs'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from list" -l no-trunc -d 'Do not truncate the output'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from inspect" -s f -l format -d 'Format the output: {{.Field}} and {{json .Field}} fields of the JSON' -r
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from inspect" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from rm" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from rm" -s f -l force -d 'Do not complain about networks that do not exist'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from remove" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from remove" -s f -l force -d 'Do not complain about networks that do not exist'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from prune" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not prompt for confirmation'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from connect" -l alias -d 'Add a name for the container on the network' -r
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from connect" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from disconnect" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from disconnect" -s f -l force -d 'Accepted for Docker compatibility (the container does not run)'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from disconnect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a network'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List networks'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Display detailed information on one or more networks'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove one or more networks'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove all networks no container uses'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "connect" -d 'Connect a created or stopped container to a network'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "disconnect" -d 'Disconnect a created or stopped container from a network'
complete -c coracle -n "__fish_coracle_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand push" -l tls-verify -d 'Allow plain HTTP and unverified registries for this push (like Podman\'s --tls-verify=false)' -r -f -a "true\t''
false\t''"
complete -c coracle -n "__fish_coracle_using_subcommand push" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand push" -s q -l quiet -d 'Print only the digest'
complete -c coracle -n "__fish_coracle_using_subcommand push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand login" -s u -l username -d 'User name' -r
complete -c coracle -n "__fish_coracle_using_subcommand login" -s p -l password -d 'Password (visible to other users in the process list: prefer --password-stdin)' -r
complete -c coracle -n "__fish_coracle_using_subcommand login" -l tls-verify -d 'Allow plain HTTP and unverified registries (like Podman\'s --tls-verify=false)' -r -f -a "true\t''
false\t''"
complete -c coracle -n "__fish_coracle_using_subcommand login" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand login" -l password-stdin -d 'Read the password from standard input'
complete -c coracle -n "__fish_coracle_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand logout" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand tag" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand tag" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand rmi" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand rmi" -s f -l force -d 'Remove the image even when a container uses it or it has several names'
complete -c coracle -n "__fish_coracle_using_subcommand rmi" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand history" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand history" -l no-trunc -d 'Don\'t truncate output'
complete -c coracle -n "__fish_coracle_using_subcommand history" -s q -l quiet -d 'Only show image ids'
complete -c coracle -n "__fish_coracle_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand save" -s o -l output -d 'Write to a file instead of standard output' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand save" -l format -d 'Archive format' -r -f -a "docker-archive\t''
oci-archive\t''"
complete -c coracle -n "__fish_coracle_using_subcommand save" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand save" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand load" -s i -l input -d 'Read from a file instead of standard input (docker-archive or oci-archive, plain, gzip or zstd)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand load" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand load" -s q -l quiet -d 'Print only the loaded names'
complete -c coracle -n "__fish_coracle_using_subcommand load" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand import" -s c -l change -d 'Apply a Dockerfile instruction to the image\'s config (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand import" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand diff" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand commit" -s a -l author -d 'Author (e.g. "Jane Doe <jane@example.com>")' -r
complete -c coracle -n "__fish_coracle_using_subcommand commit" -s c -l change -d 'Apply a Dockerfile instruction to the image\'s config (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)' -r
complete -c coracle -n "__fish_coracle_using_subcommand commit" -s m -l message -d 'Commit message' -r
complete -c coracle -n "__fish_coracle_using_subcommand commit" -s p -l pause -d 'Pause the container during commit (accepted for Docker compatibility; the container\'s files are read as they are)' -r -f -a "true\t''
false\t''"
complete -c coracle -n "__fish_coracle_using_subcommand commit" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand commit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand export" -s o -l output -d 'Write to a file instead of standard output' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand export" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand cp" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand cp" -s a -l archive -d 'Archive mode (copy all uid/gid information)'
complete -c coracle -n "__fish_coracle_using_subcommand cp" -s L -l follow-link -d 'Always follow symbol link in SRC_PATH'
complete -c coracle -n "__fish_coracle_using_subcommand cp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand check" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand check" -l json -d 'Print the report as JSON'
complete -c coracle -n "__fish_coracle_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand info" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand info" -l json -d 'Print the report as JSON'
complete -c coracle -n "__fish_coracle_using_subcommand info" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and not __fish_seen_subcommand_from ls list show check help" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand policy; and not __fish_seen_subcommand_from ls list show check help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and not __fish_seen_subcommand_from ls list show check help" -f -a "ls" -d 'List the policies --policy can name'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and not __fish_seen_subcommand_from ls list show check help" -f -a "list" -d 'List the policies --policy can name'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and not __fish_seen_subcommand_from ls list show check help" -f -a "show" -d 'Show a policy and what the running kernel enforces of it'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and not __fish_seen_subcommand_from ls list show check help" -f -a "check" -d 'Check a policy file and explain its errors (with line numbers)'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and not __fish_seen_subcommand_from ls list show check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from ls" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only print the names'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from list" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only print the names'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from show" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from show" -l json -d 'Print JSON'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from check" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List the policies --policy can name'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a policy and what the running kernel enforces of it'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check a policy file and explain its errors (with line numbers)'
complete -c coracle -n "__fish_coracle_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "create" -d 'Create a container: set up, waiting before the user program'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "start" -d 'Run the user program of a created container'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "state" -d 'Print the state of a container (runtime-spec JSON)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "kill" -d 'Send a signal to a container\'s process (default SIGTERM)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "delete" -d 'Delete a stopped container (any container with --force)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "run" -d 'Create and start a container; wait for it unless --detach'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "exec" -d 'Run a process in a running container'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "pause" -d 'Freeze every process of a container (needs its own cgroup v2)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "resume" -d 'Thaw a paused container'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "list" -d 'List containers'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "ps" -d 'Show a container\'s processes'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "features" -d 'Print the features this runtime implements (runtime-spec JSON)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "spec" -d 'Write an example config.json'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and not __fish_seen_subcommand_from create start state kill delete run exec pause resume list ps features spec help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -s b -l bundle -d 'The bundle directory (holding config.json)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l pid-file -d 'Write the container process\'s pid to this file' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l console-socket -d 'Unix socket that receives the terminal\'s master (SCM_RIGHTS)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l preserve-fds -d 'Pass N extra fds (3 .. 3+N) on to the container\'s process' -r
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l no-pivot -d 'Do not use pivot_root (move the root onto / and chroot instead)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l no-new-keyring -d 'Accepted for compatibility (no session keyring is created)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from start" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from start" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from start" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from start" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from start" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from start" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from state" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from state" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from state" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from state" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from state" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from state" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from state" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from kill" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from kill" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from kill" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from kill" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from kill" -s a -l all -d 'Signal every process of the container'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from kill" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from kill" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from kill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from delete" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from delete" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from delete" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from delete" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from delete" -s f -l force -d 'Kill the container first if it is not stopped'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from delete" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from delete" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -s b -l bundle -d 'The bundle directory (holding config.json)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l pid-file -d 'Write the container process\'s pid to this file' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l console-socket -d 'Unix socket that receives the terminal\'s master (SCM_RIGHTS)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l preserve-fds -d 'Pass N extra fds (3 .. 3+N) on to the container\'s process' -r
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l no-pivot -d 'Do not use pivot_root (move the root onto / and chroot instead)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l no-new-keyring -d 'Accepted for compatibility (no session keyring is created)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -s d -l detach -d 'Return once started'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -s p -l process -d 'A runtime-spec process JSON file (instead of the flags)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -s e -l env -d 'Set an environment variable (KEY=VALUE)' -r
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -l cwd -d 'Working directory in the container' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -l console-socket -d 'Unix socket that receives the terminal\'s master' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -l pid-file -d 'Write the process\'s pid to this file' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -s u -l user -d 'UID[:GID] to run as' -r
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -s g -l additional-gids -d 'Additional group ids' -r
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -s c -l cap -d 'Add a capability (to every set)' -r
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -s t -l tty -d 'Allocate a terminal'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -s d -l detach -d 'Do not wait for the process'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -l no-new-privs -d 'Set no_new_privileges'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from pause" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from pause" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from pause" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from pause" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from pause" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from pause" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from resume" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from resume" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from resume" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from resume" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from resume" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from resume" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from list" -s f -l format -d 'table or json' -r -f -a "table\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from list" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from list" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from list" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from list" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only ids'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from list" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from list" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from ps" -s f -l format -d 'table or json' -r -f -a "table\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from ps" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from ps" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from ps" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from ps" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from ps" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from ps" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from ps" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from features" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from features" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from features" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from features" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from features" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from features" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from features" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from spec" -s b -l bundle -d 'Directory to write config.json into' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from spec" -l root -d 'Directory for the containers\' state' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from spec" -l log -d 'Write errors and warnings to this file (besides stderr)' -r -F
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from spec" -l log-format -d 'Format of the --log file' -r -f -a "text\t''
json\t''"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from spec" -l storage-driver -d 'Storage driver for new containers: overlay (kernel overlayfs in the user namespace), fuse-overlay (coracle\'s FUSE overlay, showing the owners the image records) or vfs (a full copy). Default: storage_driver in coracle.toml, else, where the kernel allows overlay, fuse-overlay for images recording non-root owners and overlay for others, else vfs' -r -f -a "overlay\t'Kernel overlayfs in the container\'s user namespace'
vfs\t'A full copy of the image\'s layers per container'
fuse-overlay\t'coracle\'s FUSE overlay (owners as the image records them)'"
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from spec" -l rootless -d 'For an unprivileged user: a user namespace mapping your own id'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from spec" -l systemd-cgroup -d 'Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from spec" -l debug -d 'Accepted for compatibility (more output on stderr is not implemented)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from spec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a container: set up, waiting before the user program'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "start" -d 'Run the user program of a created container'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "state" -d 'Print the state of a container (runtime-spec JSON)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "kill" -d 'Send a signal to a container\'s process (default SIGTERM)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a stopped container (any container with --force)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "run" -d 'Create and start a container; wait for it unless --detach'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "exec" -d 'Run a process in a running container'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Freeze every process of a container (needs its own cgroup v2)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Thaw a paused container'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "list" -d 'List containers'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "ps" -d 'Show a container\'s processes'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "features" -d 'Print the features this runtime implements (runtime-spec JSON)'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "spec" -d 'Write an example config.json'
complete -c coracle -n "__fish_coracle_using_subcommand runtime; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "run" -d 'Create and run a new container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "exec" -d 'Execute a command in a running container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "attach" -d 'Attach local standard input, output, and error streams to a running container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "ps" -d 'List containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "logs" -d 'Fetch the logs of a container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "stop" -d 'Stop one or more running containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "kill" -d 'Kill one or more running containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "wait" -d 'Block until one or more containers stop, then print their exit codes'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "rm" -d 'Remove one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "inspect" -d 'Return low-level information on containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "start" -d 'Start one or more stopped containers (detached)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "create" -d 'Create a new container without starting it'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "restart" -d 'Restart one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "rename" -d 'Rename a container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "top" -d 'Display the running processes of a container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "port" -d 'List port mappings or a specific mapping for the container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "pause" -d 'Pause all processes within one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "unpause" -d 'Unpause all processes within one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "container" -d 'Manage containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "pull" -d 'Download an image from a registry'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "images" -d 'List images'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "image" -d 'Manage images'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "volume" -d 'Manage volumes'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "network" -d 'Manage networks'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "push" -d 'Upload an image to a registry'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "login" -d 'Log in to a registry'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "logout" -d 'Log out from a registry'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "tag" -d 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "rmi" -d 'Remove one or more images'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "history" -d 'Show the history of an image'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "save" -d 'Save images to a tar archive (docker-archive or oci-archive)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "load" -d 'Load images from a tar archive'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "import" -d 'Create an image from a root file system tarball'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "diff" -d 'Inspect changes to files or directories on a container\'s filesystem'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "commit" -d 'Create a new image from a container\'s changes'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "export" -d 'Export a container\'s filesystem as a tar archive'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "cp" -d 'Copy files/folders between a container and the local filesystem'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "check" -d 'Check the host for rootless containers and print what to fix'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "policy" -d 'Manage security policies'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "runtime" -d 'The OCI runtime command line (also installed as coracle-runtime)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and not __fish_seen_subcommand_from run exec attach ps logs stop kill wait rm inspect start create restart rename top port pause unpause container pull images image volume network push login logout tag rmi history save load import diff commit export cp check policy runtime help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "run" -d 'Create and run a new container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "exec" -d 'Execute a command in a running container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "attach" -d 'Attach local standard input, output, and error streams to a running container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "ls" -d 'List containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "logs" -d 'Fetch the logs of a container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "stop" -d 'Stop one or more running containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "kill" -d 'Kill one or more running containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "wait" -d 'Block until one or more containers stop, then print their exit codes'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "rm" -d 'Remove one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "inspect" -d 'Display detailed information on one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "start" -d 'Start one or more stopped containers (detached)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "create" -d 'Create a new container without starting it'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "restart" -d 'Restart one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "rename" -d 'Rename a container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "pause" -d 'Pause all processes within one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "unpause" -d 'Unpause all processes within one or more containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "prune" -d 'Remove all stopped containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "diff" -d 'Inspect changes to files or directories on a container\'s filesystem'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "commit" -d 'Create a new image from a container\'s changes'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "export" -d 'Export a container\'s filesystem as a tar archive'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "cp" -d 'Copy files/folders between a container and the local filesystem'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "top" -d 'Display the running processes of a container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from container" -f -a "port" -d 'List port mappings or a specific mapping for the container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "ls" -d 'List images'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "pull" -d 'Download an image from a registry'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "tag" -d 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "rm" -d 'Remove one or more images'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "inspect" -d 'Display detailed information on one or more images'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "history" -d 'Show the history of an image'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "prune" -d 'Remove unused images'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "push" -d 'Upload an image to a registry'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "save" -d 'Save images to a tar archive (docker-archive or oci-archive)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "load" -d 'Load images from a tar archive'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "import" -d 'Create an image from a root file system tarball'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "create" -d 'Create a volume'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "ls" -d 'List volumes'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "inspect" -d 'Display detailed information on one or more volumes'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "rm" -d 'Remove one or more volumes'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "prune" -d 'Remove unused volumes (anonymous ones only, unless -a)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "create" -d 'Create a network'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "ls" -d 'List networks'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "inspect" -d 'Display detailed information on one or more networks'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "rm" -d 'Remove one or more networks'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "prune" -d 'Remove all networks no container uses'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "connect" -d 'Connect a created or stopped container to a network'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "disconnect" -d 'Disconnect a created or stopped container from a network'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "ls" -d 'List the policies --policy can name'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "show" -d 'Show a policy and what the running kernel enforces of it'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "check" -d 'Check a policy file and explain its errors (with line numbers)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "create" -d 'Create a container: set up, waiting before the user program'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "start" -d 'Run the user program of a created container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "state" -d 'Print the state of a container (runtime-spec JSON)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "kill" -d 'Send a signal to a container\'s process (default SIGTERM)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "delete" -d 'Delete a stopped container (any container with --force)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "run" -d 'Create and start a container; wait for it unless --detach'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "exec" -d 'Run a process in a running container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "pause" -d 'Freeze every process of a container (needs its own cgroup v2)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "resume" -d 'Thaw a paused container'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "list" -d 'List containers'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "ps" -d 'Show a container\'s processes'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "features" -d 'Print the features this runtime implements (runtime-spec JSON)'
complete -c coracle -n "__fish_coracle_using_subcommand help; and __fish_seen_subcommand_from runtime" -f -a "spec" -d 'Write an example config.json'
