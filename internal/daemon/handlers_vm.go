package daemon

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
)

// toAPI projects a VM into its wire form.
func vmToAPI(v *model.VM) api.VM {
	out := api.VM{
		Name: v.Name, State: string(v.State), Image: v.Image, IP: v.IP, MAC: v.MAC, Tap: v.Tap,
		VCPUs: v.VCPUs, MemoryMiB: v.MemoryMiB, DiskSize: v.DiskSize, NAT: v.NAT, Driver: v.Driver,
		CreatedAt: v.CreatedAt, StartedAt: v.StartedAt, DNSName: v.DNSName(), LastError: v.LastError,
		Files: api.VMFiles{
			Dir: v.Dir, Overlay: v.OverlayPath, OverlayKind: v.OverlayKind, WorkDisk: v.WorkDisk,
			ConsoleLog: v.ConsoleLog(), Kernel: v.Kernel, Initrd: v.Initrd, BaseImage: v.BaseImage,
		},
	}
	if t := v.BootTimings; t != nil {
		bt := api.BootTimings(*t)
		out.BootTimings = &bt
	}
	if h, ok := v.Process(); ok && v.State == model.Running {
		out.PID = h.PID
		out.Accel = h.Accel
		out.Files.ControlSocket = h.ControlSocket
	}
	if st := v.SavedState; st != nil {
		ss := api.SavedState(*st)
		out.SavedState = &ss
	}
	return out
}

// projected is the answer of an operation that returns a VM: its wire
// form, or the error.
func projected(v *model.VM, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	out := vmToAPI(v)
	return &out, nil
}

// getVM loads the VM named in the request path.
func (s *server) getVM(r *http.Request) (*model.VM, error) {
	return s.vms.loadVM(r.Context(), r.PathValue("name"))
}

func (s *server) handleListVMs(w http.ResponseWriter, r *http.Request) {
	vms, err := s.vms.store.ListVMs(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]api.VM, 0, len(vms))
	for _, v := range vms {
		out = append(out, vmToAPI(v))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) handleGetVM(w http.ResponseWriter, r *http.Request) {
	v, err := s.getVM(r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, vmToAPI(v))
}

func (s *server) handleCreateVM(w http.ResponseWriter, r *http.Request) {
	var req api.CreateVMRequest
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	stream(w, func(rep api.Reporter) (any, error) { return projected(s.vms.createVM(r.Context(), req, rep)) })
}

func (s *server) handleStartVM(w http.ResponseWriter, r *http.Request) {
	var req api.StartRequest
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	stream(w, func(rep api.Reporter) (any, error) {
		return projected(s.vms.startVM(r.Context(), name, !req.NoWait, req.Cold, rep))
	})
}

func (s *server) handleStopVM(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	stream(w, func(rep api.Reporter) (any, error) { return projected(s.vms.stopVM(r.Context(), name, rep)) })
}

func (s *server) handleRestartVM(w http.ResponseWriter, r *http.Request) {
	var req api.StartRequest
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	stream(w, func(rep api.Reporter) (any, error) {
		if _, err := s.vms.stopVM(r.Context(), name, rep); err != nil {
			return nil, err
		}
		return projected(s.vms.startVM(r.Context(), name, !req.NoWait, req.Cold, rep))
	})
}

func (s *server) handleKillVM(w http.ResponseWriter, r *http.Request) {
	var req api.KillRequest
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	out, err := projected(s.vms.killVM(r.Context(), r.PathValue("name"), req.Signal))
	reply(w, out, err)
}

func (s *server) handleDeleteVM(w http.ResponseWriter, r *http.Request) {
	force := r.URL.Query().Get("force") == "1"
	if err := s.vms.deleteVM(r.Context(), r.PathValue("name"), force); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"deleted": r.PathValue("name")})
}

func (s *server) handleSetVM(w http.ResponseWriter, r *http.Request) {
	var req api.SetVMRequest
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	out, err := projected(s.vms.setVM(r.Context(), r.PathValue("name"), req))
	reply(w, out, err)
}

func (s *server) handleSSHTarget(w http.ResponseWriter, r *http.Request) {
	v, err := s.getVM(r)
	if err != nil {
		writeError(w, err)
		return
	}
	t := s.vms.guests.sshTarget(v)
	writeJSON(w, http.StatusOK, api.SSHTarget{
		Name: v.Name, IP: v.IP, User: t.User, KeyPath: t.KeyPath,
		KnownHosts: t.KnownHosts, HostKey: v.HostKeyPub, State: string(v.State),
	})
}

// handleLogs streams the console log; with follow=1 it keeps sending new
// output until the client goes away.
func (s *server) handleLogs(w http.ResponseWriter, r *http.Request) {
	v, err := s.getVM(r)
	if err != nil {
		writeError(w, err)
		return
	}
	f, err := os.Open(v.ConsoleLog())
	if errors.Is(err, os.ErrNotExist) {
		writeError(w, model.Conflict("%s has no console output yet; start it with 'banger vm start %s'", v.Name, v.Name))
		return
	} else if err != nil {
		writeError(w, err)
		return
	}
	defer func() { f.Close() }()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	follow := r.URL.Query().Get("follow") == "1"
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			continue
		}
		if err != nil && err != io.EOF {
			return
		}
		if !follow {
			return
		}
		f = followConsole(f, v.ConsoleLog())
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *server) handleSuspendVM(w http.ResponseWriter, r *http.Request) {
	var req api.SuspendRequest
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	stream(w, func(rep api.Reporter) (any, error) {
		return projected(s.vms.suspendVM(r.Context(), name, req.ResumeOnStart, rep))
	})
}

func (s *server) handleCloneVM(w http.ResponseWriter, r *http.Request) {
	var req api.CloneRequest
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	stream(w, func(rep api.Reporter) (any, error) { return projected(s.vms.cloneVM(r.Context(), name, req, rep)) })
}

func (s *server) handleListSnapshots(w http.ResponseWriter, r *http.Request) {
	out, err := s.vms.listSnapshots(r.Context(), r.PathValue("name"))
	reply(w, out, err)
}

func (s *server) handleCreateSnapshot(w http.ResponseWriter, r *http.Request) {
	var req api.SnapshotRequest
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	stream(w, func(rep api.Reporter) (any, error) { return s.vms.createSnapshot(r.Context(), name, req, rep) })
}

func (s *server) handleRestoreSnapshot(w http.ResponseWriter, r *http.Request) {
	var req api.RestoreRequest
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	name, snap := r.PathValue("name"), r.PathValue("snap")
	stream(w, func(rep api.Reporter) (any, error) {
		return projected(s.vms.restoreSnapshot(r.Context(), name, snap, req.Force, rep))
	})
}

func (s *server) handleDeleteSnapshot(w http.ResponseWriter, r *http.Request) {
	name, snap := r.PathValue("name"), r.PathValue("snap")
	if err := s.vms.deleteSnapshot(r.Context(), name, snap); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"deleted": snap})
}
