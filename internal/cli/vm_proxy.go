package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
)

// VMProxyOptions are the arguments of `banger vm proxy`.
type VMProxyOptions struct {
	// Host is the VM name, with or without the ".vm" suffix.
	Host string
	// Port is the guest TCP port.
	Port string
}

// newVMProxyCmd is the ProxyCommand of the ssh_config block
// `banger ssh-config` writes: it connects stdin/stdout to a VM's port, so
// `ssh NAME.vm`, scp, rsync and editors reach VMs with no host DNS setup.
func newVMProxyCmd(e *Env, runF func(*VMProxyOptions) error) *cobra.Command {
	o := &VMProxyOptions{}
	return &cobra.Command{
		Use:   "proxy NAME[.vm] PORT",
		Short: "Connect stdin/stdout to a VM's TCP port (ssh ProxyCommand)",
		Args:  exactArgs(2, "a VM name and a port"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Host, o.Port = args[0], args[1]
			return runWith(cmd, e, o, runF, vmProxyRun)
		},
	}
}

func vmProxyRun(ctx context.Context, e *Env, o *VMProxyOptions) error {
	name := strings.TrimSuffix(strings.TrimSuffix(o.Host, "."), ".vm")
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	vm, err := b.GetVM(ctx, name)
	if err != nil {
		return err
	}
	if vm.State != api.StateRunning {
		return fmt.Errorf("%s is %s; start it with 'banger vm start %s'", name, vm.State, name)
	}
	conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", net.JoinHostPort(vm.IP, o.Port))
	if err != nil {
		return fmt.Errorf("connect to %s (%s) port %s: %w; is the guest up? see 'banger vm logs %s'", name, vm.IP, o.Port, err, name)
	}
	return pipe(conn, e.In, e.Out)
}

// pipe copies in to conn and conn to out until the guest side closes.
func pipe(conn net.Conn, in io.Reader, out io.Writer) error {
	defer conn.Close()
	go func() {
		_, _ = io.Copy(conn, in)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	_, err := io.Copy(out, conn)
	return err
}
