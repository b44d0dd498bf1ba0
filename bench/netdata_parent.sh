# Sourced by bench/parent_load.sh and bench/health_load.sh: the netdata.conf of a Netdata 1.37
# parent on loopback (no collectors of its own, no registry, statsd or ml).
#   netdata_parent_conf DIR PORT HEALTH   (HEALTH: yes|no; notifications go to /bin/true)
netdata_parent_conf() {
    local dir=$1 port=$2 health=$3
    mkdir -p "$dir/etc/health.d" "$dir/cache" "$dir/lib/registry" "$dir/lib/lock" "$dir/log"
    touch "$dir/etc/.opt-out-from-anonymous-statistics"
    cat > "$dir/etc/netdata.conf" <<EOC
[global]
    run as user = netdata
[db]
    mode = ram
    retention = 60
[directories]
    config = $dir/etc
    cache = $dir/cache
    lib = $dir/lib
    log = $dir/log
    lock = $dir/lib/lock
    home = $dir/lib
[web]
    bind to = 127.0.0.1:$port
    mode = static-threaded
    allow connections from = *
    allow streaming from = *
[logs]
    errors to trigger flood protection = 1000000
[registry]
    enabled = no
[health]
    enabled = $health
    script to execute on alarm = /bin/true
[statsd]
    enabled = no
[ml]
    enabled = no
[plugins]
    enable running new plugins = no
    proc = no
    diskspace = no
    cgroups = no
    tc = no
    idlejitter = no
    timex = no
    checks = no
EOC
}
