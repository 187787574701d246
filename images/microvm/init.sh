#!/bin/busybox sh
# Stage 1 of the builder microVM (the initramfs's /init). It loads the virtio and ext4 modules,
# mounts the disks the host attached (found by their virtio serial, not by their order), brings up
# user-mode networking and runs the guest agent chrooted into the builder root. Whatever happens,
# it powers the VM off: the host decides success from the agent's result channel, never from here.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# devtmpfs has no /dev/fd, which bash's process substitution needs.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin; ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr

say() { echo "microvm: $*"; }
halt() { sync; poweroff -f; sleep 5; }

for m in /mods/*.ko; do insmod "$m" 2>/dev/null || say "warning: module $(basename "$m") did not load"; done

disk() {
  for b in /sys/block/vd*; do
    [ "$(cat "$b/serial" 2>/dev/null)" = "$1" ] && { echo "/dev/${b##*/}"; return 0; }
  done
  return 1
}
for i in $(seq 1 100); do disk root >/dev/null && disk config >/dev/null && break; sleep 0.05; done
ROOT=$(disk root) || { say "error: no root disk"; halt; }

if ip link show eth0 >/dev/null 2>&1; then
  ip link set lo up && ip link set eth0 up
  ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
fi

R=/newroot
mkdir -p $R
mount -t ext4 -o rw "$ROOT" $R || { say "error: cannot mount the builder root"; halt; }
mkdir -p $R/proc $R/sys $R/dev $R/run $R/tmp $R/src $R/config $R/var/lib/containers
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -o bind /dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm && mount -t devpts devpts $R/dev/pts && mount -t tmpfs shm $R/dev/shm
mount -t tmpfs -o mode=755 run $R/run
mount -t tmpfs -o mode=1777 tmp $R/tmp
CONFIG=$(disk config) && mount -t ext4 -o ro "$CONFIG" $R/config
SRC=$(disk src) && mount -t ext4 -o rw "$SRC" $R/src
SCRATCH=$(disk scratch) && mount -t ext4 -o rw "$SCRATCH" $R/var/lib/containers
# The network reaches nothing but QEMU's forwards (src/builder/microvm/guest-network.ts): the
# egress proxy, which resolves names itself, and the host's registries at 10.0.2.100. There is no
# DNS server to ask: an empty resolv.conf makes a lookup fail at once instead of timing out.
echo "# no DNS in the builder VM: use the proxy in HTTP_PROXY/HTTPS_PROXY" > $R/etc/resolv.conf
PROXY=http://10.0.2.101:3128
NOPROXY=10.0.2.100,localhost,127.0.0.1
say "booted in $(cut -d' ' -f1 /proc/uptime)s"

# buildah uses the proxy for its pulls and passes these to RUN steps (bud --http-proxy, the default).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  http_proxy=$PROXY https_proxy=$PROXY HTTP_PROXY=$PROXY HTTPS_PROXY=$PROXY no_proxy=$NOPROXY NO_PROXY=$NOPROXY \
  chroot $R /usr/local/bin/microship-agent
say "agent exited with status $? after $(cut -d' ' -f1 /proc/uptime)s"
sync
umount $R/var/lib/containers $R/src $R/config 2>/dev/null
halt
