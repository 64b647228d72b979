#!/usr/bin/env bash
# Mutation checks: each mutant is a deliberately broken copy of the tree (a
# bug a real change could bring). The tests that guard that behaviour must
# fail on it ("killed"); a mutant the tests pass ("survived") means they
# cannot see the bug. Every mutant is applied to its own temporary copy of
# the working tree; the real tree is never modified. Exits non-zero when a
# mutant survives or no longer applies.
#   MUTANTS="name ..."   run only these mutants
#   --check              only check that every mutant still applies (no
#                        build, no tests; seconds): run it after a rebase
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# name | file | perl substitution (must change the file) | packages | go test -run
# shellcheck disable=SC2016 # the substitutions are perl code, not shell
mutants=(
  'store-updatevm-swap|internal/store/vms.go|s/^(\s+)v\.Image, v\.State, v\.VCPUs, v\.MemoryMiB,/$1v.Image, v.State, v.MemoryMiB, v.VCPUs,/m|./internal/store|'
  'logs-follow-no-rewind-after-cut|internal/daemon/console_cap.go|s/err == nil && cur\.Size\(\) < pos \{/err == nil \&\& cur.Size() > pos {/|./internal/daemon|TestLogsFollowAfterCutAndRestart'
  'logs-follow-keeps-replaced-file|internal/daemon/console_cap.go|s/err == nil && !os\.SameFile\(cur, now\) \{/err == nil \&\& os.SameFile(cur, now) {/|./internal/daemon|TestLogsFollowAfterCutAndRestart'
  'boot-undo-signals-nothing|internal/daemon/boot.go|s/_ = b\.drv\.Kill\(\*h, 9\)/_ = b.drv.Kill(*h, 0)/|./internal/daemon|FailingAfterTheVMMStarted'
  'create-undo-keeps-work-disk|internal/daemon/vm_create.go|s/errors\.Join\(d\.storage\.RemoveImage\(v\.WorkDisk\), /errors.Join(/|./internal/daemon|TestCreateFailingAtEachStepLeavesNothing'
  'create-overlay-no-undo|internal/daemon/vm_create.go|s/\}, Undo: func\(\) error \{ return d\.storage\.RemoveOverlay\(context\.Background\(\), ov\) \}\},/}},/|./internal/daemon|TestCreateFailingAtEachStepLeavesNothing'
  'image-show-users-by-path|internal/daemon/images.go|s/used, _ := m\.store\.VMsUsingImage\(ctx, name\)/used, _ := m.store.VMsUsingImage(ctx, im.Path)/|./internal/daemon|TestImagesOverSeveralVMs'
  'image-delete-one-user-ok|internal/daemon/images.go|s/if len\(used\) > 0 \{/if len(used) > 1 {/|./internal/daemon|TestImagesOverSeveralVMs'
  'generated-name-checks-images|internal/daemon/vm_create.go|s/taken\[v\.Name\] = true/taken[v.Image] = true/|./internal/daemon|TestGeneratedNamesAvoidTakenOnes'
  'nft-remove-by-prefix|internal/nat/nftables.go|s/if ruleComment\(r\) == want \{/if strings.HasPrefix(ruleComment(r), want) {/|./internal/nat|TestRemoveVMLeavesOthersNftables'
  'ipt-remove-by-prefix|internal/nat/iptables.go|s/if ruleArg\(r, "--comment"\) != tag \{/if !strings.HasPrefix(ruleArg(r, "--comment"), tag) {/|./internal/nat|TestRemoveVMLeavesOthersIptables'
  'suspend-all-stops-at-a-failure|internal/cli/vm_suspend.go|s/if !o\.All \{\n\t\t\t\t\t\treturn err/if o.All {\n\t\t\t\t\t\treturn err/|./internal/cli|TestSuspendAllCarriesOnAndFails'
  'suspend-all-failure-exits-zero|internal/cli/vm_suspend.go|s/\t+failed = fmt\.Errorf\("some VMs were not suspended"\)\n//|./internal/cli|TestSuspendAllCarriesOnAndFails'
  'bulk-delete-swallows-failure|internal/cli/vm_power.go|s/(if err := b\.DeleteVM\(ctx, n, o\.Force\); err != nil \{\n\t+)return err/${1}continue/|./internal/cli|TestBulkDeleteStopsAtTheFirstFailure'
  'adopt-forwarding-needs-two|internal/daemon/adopt.go|s/if len\(wantNAT\) > 0 \{/if len(wantNAT) > 1 {/|./internal/daemon|TestAdoptionEnablesForwardingForOneNATVM'
  'bundle-digest-case-sensitive|internal/bundle/fetch.go|s/want := strings\.ToLower\(m\.SHA256\)/want := m.SHA256/|./internal/bundle|TestFetchTakesAnUppercaseDigest'
  'key-device-not-refused|internal/sshkeys/keys.go|s/if !st\.Mode\(\)\.IsRegular\(\) \{/if st.Mode().IsDir() {/|./internal/sshkeys|TestEnsureUserKeyRefusesNonFiles'
  'adopt-resumes-regardless|internal/daemon/adopt.go|s/if d\.cfg\.ResumeOnStart \{/if !d.cfg.ResumeOnStart {/|./internal/daemon|TestAdoptionResumesOnlyWhenConfigured'
  'stop-ignores-stop-timeout|internal/daemon/vm_stop.go|s/deadline := start\.Add\(d\.cfg\.StopTimeout\)/deadline := start.Add(30 * time.Second)/|./internal/daemon|TestStopKillsAfterStopTimeout'
  'dns-address-kept-by-old-name|internal/dns/server.go|s/\t\tdelete\(s\.byName, other\)/\t\t_ = other/|./internal/dns|TestRecordsOverSeveralVMs'
  'clone-disk-from-config|internal/daemon/vm_clone.go|s/DiskSize: src\.DiskSize, NAT: req\.NAT/DiskSize: d.cfg.DefaultDiskSize, NAT: req.NAT/|./internal/daemon|TestCloneCarriesTheSourcesMachine'
  'clone-memory-from-config|internal/daemon/vm_clone.go|s/MemoryMiB: src\.MemoryMiB,/MemoryMiB: d.cfg.DefaultMemoryMiB,/|./internal/daemon|TestCloneCarriesTheSourcesMachine'
  'clone-drops-initrd|internal/daemon/vm_clone.go|s/= src\.Kernel, src\.Initrd, src\.BaseImage/= src.Kernel, "", src.BaseImage/|./internal/daemon|TestCloneCarriesTheSourcesMachine'
  'resume-failure-marks-stopped|internal/daemon/vm_suspend.go|s/v\.State, v\.Handle, v\.LastError = model\.Suspended, nil, err\.Error\(\)/v.State, v.Handle, v.LastError = model.Stopped, nil, err.Error()/|./internal/daemon|TestResumeFailingKeepsTheSavedState'
  'store-snapshot-args-swapped|internal/store/snapshots.go|s/(snapshotColumns\+` FROM snapshots WHERE )vm_name = \? AND name = \?/$1name = ? AND vm_name = ?/|./internal/store|TestSnapshotQueriesOverSeveralRecords'
  'store-snapshot-delete-or|internal/store/snapshots.go|s/DELETE FROM snapshots WHERE vm_name = \? AND name = \?/DELETE FROM snapshots WHERE vm_name = ? OR name = ?/|./internal/store|TestSnapshotQueriesOverSeveralRecords'
  'store-snapshots-by-name|internal/store/snapshots.go|s/ORDER BY created_at, name/ORDER BY name, created_at/|./internal/store|TestSnapshotQueriesOverSeveralRecords'
  'store-vms-using-image-column|internal/store/images.go|s/SELECT name FROM vms WHERE image = \?/SELECT image FROM vms WHERE image = ?/|./internal/store|TestVMQueriesOverSeveralRecords'
  'store-vms-using-base-image|internal/store/images.go|s/FROM vms WHERE image = \?/FROM vms WHERE base_image = ?/|./internal/store|TestVMQueriesOverSeveralRecords'
  'store-getvm-inner-join|internal/store/vms.go|s/(SELECT `\+vmColumns\+` FROM vms v )LEFT JOIN(.*WHERE v\.name = \?)/$1JOIN$2/|./internal/store|TestVMQueriesOverSeveralRecords'
  'store-listvms-by-created|internal/store/vms.go|s/ORDER BY v\.name/ORDER BY v.created_at/|./internal/store|TestVMQueriesOverSeveralRecords'
  'store-snapshot-list-any-vm|internal/store/snapshots.go|s/FROM snapshots WHERE vm_name = \? ORDER BY/FROM snapshots WHERE vm_name = ? OR memory ORDER BY/|./internal/store|TestSnapshotQueriesOverSeveralRecords'
  'config-int-bound-exclusive|internal/config/keys.go|s/if n < int64\(lo\) /if n <= int64(lo) /|./internal/config|TestEveryBoundIsInclusive'
  'config-size-bound-exclusive|internal/config/keys.go|s/ n > MaxDiskSize \{\n\t\treturn fmt\.Errorf\(\"%s is out/ n >= MaxDiskSize {\n\t\treturn fmt.Errorf(\"%s is out/|./internal/config|TestEveryBoundIsInclusive'
  'config-system-size-wrong-field|internal/config/keys.go|s/return setSize\(v, &c\.SystemDiskSize\)/return setSize(v, \&c.DefaultDiskSize)/|./internal/config|TestEveryBoundIsInclusive'
  'config-stop-timeout-exclusive|internal/config/keys.go|s/if d < minStop /if d <= minStop /|./internal/config|TestEveryBoundIsInclusive'
  'config-link-name-off-by-one|internal/config/keys.go|s/len\(s\) > maxLinkName/len(s) >= maxLinkName/|./internal/config|TestEveryBoundIsInclusive'
  'create-overlay-ignores-system-size|internal/daemon/vm_create.go|s/overlayFile\(probe\.Chosen\)\), d\.cfg\.SystemDiskSize\)/overlayFile(probe.Chosen)), req.DiskSize)/|./internal/daemon|TestConfigDefaultsReachTheVM'
  'create-default-disk-from-system|internal/daemon/vm_create.go|s/req\.DiskSize = d\.cfg\.DefaultDiskSize/req.DiskSize = d.cfg.SystemDiskSize/|./internal/daemon|TestConfigDefaultsReachTheVM'
  'json-dns-name-omitted|internal/api/types.go|s/`json:"dns_name"`/`json:"dns_name,omitempty"`/|./internal/cli|TestJSON'
  'json-used-by-renamed|internal/api/types.go|s/`json:"used_by,omitempty"`/`json:"usedBy,omitempty"`/|./internal/cli|TestJSON'
  'key-group-readable-accepted|internal/sshkeys/keys.go|s/perm&0o077 != 0/perm\&0o007 != 0/|./internal/sshkeys|TestEnsureUserKeyPermissionVariants'
  'key-must-be-exactly-0600|internal/sshkeys/keys.go|s/perm&0o077 != 0/perm != 0o600/|./internal/sshkeys|TestEnsureUserKeyPermissionVariants'
  'bundle-cache-not-reverified|internal/bundle/download.go|s/if verifyFile\(ctx, cached, want, nil\) == nil \{/if true {/|./internal/bundle|TestFetchReverifiesTheCacheAndFollowsTheManifest'
  'bundle-any-stamp-up-to-date|internal/bundle/fetch.go|s/strings\.TrimSpace\(string\(stamp\)\) == want/strings.TrimSpace(string(stamp)) != ""/|./internal/bundle|TestFetchReverifiesTheCacheAndFollowsTheManifest'
  'bundle-cache-one-name|internal/bundle/download.go|s/"banger-runtime-"\+want\+".tar.gz"/"banger-runtime.tar.gz"/|./internal/bundle|TestFetchReverifiesTheCacheAndFollowsTheManifest'
  'nft-inbound-not-dropped|internal/nat/nftables.go|s/(ifname\(expr\.MetaKeyIIFNAME, expr\.CmpOpNeq, bridge\), verdict\(expr\.)VerdictDrop/$1VerdictAccept/|./internal/nat|TestInboundForwardDroppedNftables'
  'nft-replies-any-state|internal/nat/nftables.go|s/ipv4Addr\(16, ip\),\n\t\tctEstablished\(\),/ipv4Addr(16, ip),/|./internal/nat|TestInboundForwardDroppedNftables'
  'ipt-inbound-not-dropped|internal/nat/iptables.go|s/("-o", bridge, "!", "-i", bridge, "-m", "comment", "--comment", baseComment, "-j", )"DROP"/$1"ACCEPT"/|./internal/nat|TestInboundForwardDroppedIptables'
  'ipt-replies-any-state|internal/nat/iptables.go|s/"--ctstate", "RELATED,ESTABLISHED"/"--ctstate", "NEW,RELATED,ESTABLISHED"/|./internal/nat|TestInboundForwardDroppedIptables'
  'default-route-highest-metric|internal/network/route.go|s/r\.Priority < best/r.Priority > best/|./internal/nat|TestDefaultRouteLowestMetric'
  'default-route-any-prefix|internal/network/route.go|s/ones, _ := r\.Dst\.Mask\.Size\(\); ones != 0/ones, _ := r.Dst.Mask.Size(); ones > 1/|./internal/nat|TestDefaultRouteLowestMetric'
  'console-cap-drops-marker-length|internal/daemon/console_cap.go|s/f\.Truncate\(int64\(len\(cut\)\)\)/f.Truncate(int64(len(tail)))/|./internal/daemon|TestCapConsoleLog'
  'console-cap-partial-line|internal/daemon/console_cap.go|s/tail = tail\[i\+1:\]/tail = tail[i:]/|./internal/daemon|TestCapConsoleLog'
  'testsum-no-rerun|internal/tools/testsum/rerun.go|s/\tif s\.run == nil \{/\tif true {/|./internal/tools/testsum|TestPanicDoesNotHideTheRest'
  'testsum-skips-subtests|internal/tools/testsum/main.go|s/if e\.Test != "" && !strings\.Contains\(e\.Test, "\/"\) && /if e.Test != "" \&\& /|./internal/tools/testsum|TestPanicDoesNotHideTheRest'
  'delete-keeps-nat|internal/daemon/resources.go|s/return rs\.removeNAT\(ctx, v\.Name\)/return nil/|./internal/daemon|'
  'stop-always-kills|internal/daemon/vm_stop.go|s/if !d\.gracefulStop\(ctx, v, drv, h, rep\) \{/if true {/|./internal/daemon|Stop'
  'resume-deletes-mapped-state|internal/daemon/vm_suspend.go|s/if !vmm\.StateTraitsOf\(drv\)\.MappedAfterLoad \{/if true {/|./internal/daemon|TestMappedState'
  'stop-keeps-spent-state|internal/daemon/vm_stop.go|s/removeSpentState\(d, v, stateDir\(v\)\)/_ = v/|./internal/daemon|TestMappedState'
  'resume-ignores-moved-drives|internal/daemon/vm_suspend.go|s/if was != is \{/if false {/|./internal/daemon|TestStateWithMoved'
  'firecracker-any-arch|internal/vmm/select.go|s/if arch == "amd64" \{/if true {/|./internal/vmm|TestSelectArch'
  'api-ignores-unknown-fields|internal/api/decode.go|s/names := fieldNames\(reflect\.TypeOf\(v\)\)/names := map[string]bool(nil)/|./internal/api ./internal/daemon|Decode|UnknownRequestFields'
  'unpack-drops-mtimes|internal/bundle/unpack.go|s/if err := setMtime\(dst, hdr\.ModTime\); err != nil \{/if false {/|./internal/bundle|TestFetchRestoresTimesAndModes'
  'rootfs-stamp-keys-on-mtime|scripts/packages.sh|s/"base:sha256:\$digest"/"base:\$(stat -c %s:%Y "\$2")"/|./scripts|TestMakeRootfs'
  'nat-sh-takes-any-address|scripts/nat.sh|s/\[\[ \$ip =~ \$ipv4_re \]\]/[[ \$ip =~ . ]]/|./scripts|TestNatShHelpAndBadInput'
  'help-hides-unknown-command|internal/cli/tree.go|s/f\.set && len\(f\.cmd\.Flags\(\)\.Args\(\)\) == 0/f.set/|./internal/cli|TestUnknownSubcommand'
  'fc-halt-ignores-shrunk-console|internal/vmm/firecracker/logs.go|s/start = 0$/start = fi.Size()/m|./internal/vmm/firecracker|TestGuestHalted'
  'fc-no-i8042-args|internal/vmm/firecracker/firecracker.go|s/ i8042\.noaux i8042\.nomux i8042\.nopnp i8042\.dumbkbd"/"/|./internal/vmm/firecracker|TestFakeStartShutdown'
  'fc-load-no-tap-override|internal/vmm/firecracker/snapshot.go|s/if spec\.Net != nil \{\n\t\tparams/if false {\n\t\tparams/|./internal/vmm/firecracker|TestLoadSnapshot'
  'fakefc-flag-equals|internal/vmm/firecracker/fakefc/main.go|s/name := args\[i\]\[2:\]/name, _, _ := strings.Cut(args[i][2:], "=")/|./internal/vmm/firecracker/fakefc|TestFlags'
  'fakefc-repeated-flags|internal/vmm/firecracker/fakefc/main.go|s/if seen\[name\] \{/if false {/|./internal/vmm/firecracker/fakefc|TestFlags'
  'fakefc-keys-any-case|internal/vmm/firecracker/fakefc/strict.go|s/ft, known := fields\[key\]/ft, known := fields[strings.ToLower(key)]/|./internal/vmm/firecracker/fakefc|TestJSONKeys'
  'fakefc-keys-repeated|internal/vmm/firecracker/fakefc/strict.go|s/case seen\[key\]:/case false:/|./internal/vmm/firecracker/fakefc|TestJSONKeys'
  'fakefc-mac-extra-pairs|internal/vmm/firecracker/fakefc/strict.go|s/if len\(parts\) != 6 \{/if len(parts) < 6 {/|./internal/vmm/firecracker/fakefc|TestGuestMAC'
  'fakefc-drive-opened-readonly|internal/vmm/firecracker/fakefc/devices.go|s/flag := os\.O_RDWR/flag := os.O_RDONLY/|./internal/vmm/firecracker/fakefc|TestDriveOpened'
  'fakefc-tap-any-owner|internal/vmm/firecracker/fakefc/devices.go|s/if !tapAllowed\(name\) \{/if false {/|./internal/vmm/firecracker/fakefc|TestTapMust'
  'fakefc-tap-missing-created|internal/vmm/firecracker/fakefc/devices.go|s/if _, err := os\.Stat\("\/sys\/class\/net\/" \+ name\); err != nil \{/if false {/|./internal/vmm/firecracker/fakefc|TestTapMust'
  'fakefc-load-skips-tap|internal/vmm/firecracker/fakefc/snapshot.go|s/tap, e := openTap\(\*iface\.HostDevName\)/tap, e := (*os.File)(nil), ""; _ = iface/|./internal/vmm/firecracker/fakefc|TestSnapshotLoadOpens'
  'fakefc-kernel-any-machine|internal/vmm/firecracker/fakefc/kernel.go|s/case elf\.Machine\(hdr\.Machine\) != elf\.EM_X86_64:/case false:/|./internal/vmm/firecracker/fakefc|TestKernelMust'
  'fc-checkkernel-any-elf|internal/vmm/firecracker/kernel.go|s/return checkELF\(path, hdr\[:n\]\)/return nil/|./internal/vmm/firecracker|TestCheckKernel'
  'resize-asks-the-nat-rule|internal/daemon/vm_edit.go|s/v\.Allows\(model\.OpResize\)/v.Allows(model.OpSetNAT)/|./internal/daemon|TestEveryStateAndOperationThroughTheAPI'
  'failed-start-says-nothing|internal/daemon/vm_boot.go|s/\tv\.LastError = err\.Error\(\)\n//|./internal/daemon|TestFailedOverlayActivation'
  'facts-drop-a-docker-package|scripts/facts.go|s/return strings\.Fields\(words\)/return strings.Fields(words)[1:]/|./scripts|TestFactsAreWhatBashSees'
  'tap-create-not-exclusive|internal/network/tap.go|s/ . unix\.IFF_TUN_EXCL\)/)/|./internal/network|TestTapsAreNeverTakenOver'
  'tap-owner-unchecked|internal/network/netlink.go|s/if info\.Owner != int64\(m\.TapOwner\) \{/if false {/|./internal/network|TestTapsAreNeverTakenOver'
  'bridge-keeps-ipv6|internal/network/netlink.go|s/if err := hardenBridge\(name\); err != nil \{/if err := error(nil); err != nil {/|./internal/network|TestBridgeHasNoIPv6'
  'helper-any-tap-name|internal/nethelper/server.go|s/if !network\.IsTapNameOf\(a\.UID, tap\) \{/if false {/|./internal/nethelper|TestHelperRefuses'
  'helper-no-tap-limit|internal/nethelper/server.go|s/n <= a\.MaxTaps/n >= 0/|./internal/nethelper|TestHelperKeepsLimits'
  'helper-nat-broadcast|internal/nethelper/server.go|s/r\.IP == broadcast\(a\.Subnet\)/false/|./internal/nethelper|TestHelperRefuses'
  'allocate-same-uid-twice|internal/system/allocate.go|s/if a, ok := r\.ForUID\(uid\); ok \{/if a, ok := r.ForUID(uid); ok \&\& a.UID < 0 {/|./internal/system|TestAllocateRefuses'
  'install-trusts-group-writable|internal/system/trust.go|s/Perm\(\)&0o022 != 0/Perm()\&0o002 != 0/|./internal/system|TestCheckRootOwned'
)

work=$(mktemp -d /tmp/banger-mutation.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ "${1:-}" = "--check" ]; then
  bad=0
  for m in "${mutants[@]}"; do
    IFS='|' read -r name file subst _ _ <<<"$m"
    cp "$file" "$work/check" 2>/dev/null || { echo "mutant $name: BROKEN: $file is gone"; bad=$((bad + 1)); continue; }
    if ! perl -0pi -e "$subst" "$work/check" || cmp -s "$file" "$work/check"; then
      echo "mutant $name: BROKEN: the change no longer applies to $file"
      bad=$((bad + 1))
    fi
  done
  echo "mutants: ${#mutants[@]} checked, $bad broken"
  [ "$bad" -eq 0 ]
  exit
fi
# The working tree as it is (committed or not), without bundle or binaries.
files=$(mktemp "$work/files.XXXXXX")
git ls-files -z -co --exclude-standard | grep -zv '^runtime/' >"$files"

killed=0 survived=0 broken=0 skipped=0
for m in "${mutants[@]}"; do
  IFS='|' read -r name file subst pkgs run <<<"$m"
  if [ -n "${MUTANTS:-}" ] && [[ " $MUTANTS " != *" $name "* ]]; then continue; fi
  # The netfilter tests that kill these run in network namespaces (root).
  if [ "$(id -u)" != 0 ] && [[ " $pkgs " == *" ./internal/nat "* ]]; then
    echo "mutant $name: skipped: its tests need root (network namespaces); CI runs as root"
    skipped=$((skipped + 1)); continue
  fi
  copy="$work/$name"
  mkdir -p "$copy"
  tar -C "$root" --null -T "$files" -cf - | tar -C "$copy" -xf -
  before=$(sha256sum "$copy/$file")
  perl -0pi -e "$subst" "$copy/$file"
  if [ "$(sha256sum "$copy/$file")" = "$before" ]; then
    echo "mutant $name: BROKEN: the change no longer applies to $file; update scripts/mutation.sh"
    broken=$((broken + 1)); continue
  fi
  # shellcheck disable=SC2086 # $pkgs is a list of packages
  if ! (cd "$copy" && go vet $pkgs >/dev/null 2>"$work/$name.vet"); then
    echo "mutant $name: BROKEN: the mutated copy does not compile:"; sed 's/^/  /' "$work/$name.vet"
    broken=$((broken + 1)); continue
  fi
  start=$(date +%s)
  # shellcheck disable=SC2086 # $pkgs is a list of packages
  if (cd "$copy" && go test -count=1 ${run:+-run "$run"} $pkgs >"$work/$name.log" 2>&1); then
    echo "mutant $name: SURVIVED ($file; go test ${run:+-run $run }$pkgs passed in $(( $(date +%s) - start ))s)"
    survived=$((survived + 1))
  else
    first=$(grep -m1 -E '^\s+--- FAIL|^--- FAIL' "$work/$name.log" | sed 's/^ *//' || true)
    echo "mutant $name: killed in $(( $(date +%s) - start ))s by ${first:-a failing test}"
    killed=$((killed + 1))
  fi
  rm -rf "$copy"
done
note=""
[ "$skipped" -gt 0 ] && note=", $skipped skipped (not root)"
echo "mutants: $killed killed, $survived survived, $broken broken$note"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
