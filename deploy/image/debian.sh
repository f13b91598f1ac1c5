# debian.sh: sourced by build.sh. The Debian layer's root: the runtime packages (Layout.ts DebianRuntimePackages)
# installed by mmdebstrap into a throwaway root with Debian's Essential set (so their maintainer scripts run and
# the CA bundle and dpkg's record are real), then cut down to what those packages own. Uses build.sh's
# RUNTIME_PACKAGES, DEBIAN_SUITE, DEBIAN_MIRRORS, PASSWD_LINE, GROUP_LINE, CACHE and WORK. build.sh's cache
# key for the layer hashes these functions' text, so a change here rebuilds the layer.

debian_rootfs() { # debian_rootfs <dir>: the runtime packages, properly installed, in a root with Debian's Essential set
  local extra
  extra="$(IFS=,; echo "${RUNTIME_PACKAGES[*]}")"
  mkdir -p "$CACHE/debs"
  mmdebstrap --quiet --mode=root --variant=essential --include="$extra" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in $CACHE/debs /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives $CACHE/debs" \
    "$DEBIAN_SUITE" "$1" "${DEBIAN_MIRRORS[@]}" >&2
}

debian_prune() { # debian_prune <root>: keep what the runtime packages own (and what their scripts made), drop the rest
  local root="$1" pkg
  chroot "$root" dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n' \
    "${RUNTIME_PACKAGES[@]}" | LC_ALL=C sort > "$WORK/debian-packages.tsv"
  # Paths as dpkg lists them, moved under /usr where bookworm's merged /usr puts them, plus the merged-/usr links,
  # ca-certificates' generated bundle and links, the name service switch config, and dpkg's own record.
  {
    chroot "$root" dpkg-query -L "${RUNTIME_PACKAGES[@]}" | sed -E 's#^/(bin|sbin|lib|lib64)(/|$)#/usr/\1\2#'
    printf '%s\n' /bin /sbin /lib /lib64 /etc/ca-certificates.conf /etc/nsswitch.conf /etc/passwd /etc/group \
      /var /var/lib /var/lib/dpkg /var/lib/dpkg/status /var/lib/dpkg/info /usr/local /usr/local/bin
    (cd "$root" && find etc/ssl/certs -mindepth 1 -printf '/%p\n')
    for pkg in "${RUNTIME_PACKAGES[@]}"; do
      (cd "$root" && find var/lib/dpkg/info -maxdepth 1 \( -name "$pkg.list" -o -name "$pkg:*.list" -o -name "$pkg.md5sums" -o -name "$pkg:*.md5sums" \) -printf '/%p\n')
    done
  } | grep -v '^/\.$' | LC_ALL=C sort -u > "$WORK/keep"
  chroot "$root" dpkg-query -s "${RUNTIME_PACKAGES[@]}" > "$WORK/status"
  (cd "$root" && find . -mindepth 1 ! -type d -printf '/%P\n') | LC_ALL=C sort > "$WORK/all-files"
  LC_ALL=C comm -23 "$WORK/all-files" "$WORK/keep" | sed "s#^#$root#" | tr '\n' '\0' | xargs -0 -r rm -f
  # Empty directories nobody owns go too (the mount points /proc, /sys, /dev, /tmp, /run are base-files').
  (cd "$root" && find . -mindepth 1 -depth -type d -empty -printf '/%P\n') | LC_ALL=C sort > "$WORK/empty-dirs"
  while [[ -s "$WORK/empty-dirs" ]]; do
    LC_ALL=C comm -23 "$WORK/empty-dirs" "$WORK/keep" | sed "s#^#$root#" | tr '\n' '\0' | xargs -0 -r rmdir
    (cd "$root" && find . -mindepth 1 -depth -type d -empty -printf '/%P\n') | LC_ALL=C sort |
      LC_ALL=C comm -23 - "$WORK/keep" > "$WORK/empty-dirs"
  done
  cp "$WORK/status" "$root/var/lib/dpkg/status"
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\n%s\n' "$PASSWD_LINE" > "$root/etc/passwd"
  printf 'root:x:0:\n%s\n' "$GROUP_LINE" > "$root/etc/group"
  chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/var/lib/dpkg/status"
}

debian_clamp() { # debian_clamp <root>: the newest file the runtime packages ship (their md5sums lists), so
  # the layer's times follow the package versions alone and not the build's date or the commit
  local root="$1"
  (cd "$root" && cat var/lib/dpkg/info/*.md5sums | sed -E 's/^[0-9a-f]+ +//' | tr '\n' '\0' |
    { xargs -0 -r stat -c %Y 2>/dev/null || true; } | sort -n | tail -1) # (excluded docs do not exist: skipped)
}
