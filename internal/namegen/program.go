package namegen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/execx"
)

// programTimeout bounds one run of a name program.
const programTimeout = 10 * time.Second

// programTries is how many times Generate runs a name program whose name is
// taken before it appends a number.
const programTries = 8

// isProgram reports whether path is an executable file that starts like a
// program (a "#!" script or an ELF binary), so a word list that merely has
// an execute bit is still read as a word list.
func isProgram(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	return bytes.HasPrefix(head, []byte("#!")) || bytes.Equal(head, []byte("\x7fELF"))
}

// NewProgram returns a Generator that runs path (no arguments) for every
// name: its standard output, trimmed, is the name. A name that is taken is
// asked for again a few times, then numbered ("web-2").
func NewProgram(path string) *Generator {
	return &Generator{program: path}
}

// runProgram runs the name program once and validates what it printed.
func (g *Generator) runProgram() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), programTimeout)
	defer cancel()
	out, err := execx.Run(ctx, execx.Cmd{Args: []string{g.program}})
	if err != nil {
		return "", fmt.Errorf("name program failed: %w; fix namegen_path in config.toml or pass --name", err)
	}
	name := strings.TrimSpace(string(out))
	if err := Validate("VM", name); err != nil {
		return "", fmt.Errorf("name program %s printed an unusable name: %w; fix the program or pass --name", g.program, err)
	}
	return name, nil
}

// generateFromProgram is Generate for a program-backed Generator.
func (g *Generator) generateFromProgram(taken func(string) bool) (string, error) {
	var name string
	for range programTries {
		var err error
		if name, err = g.runProgram(); err != nil {
			return "", err
		}
		if !taken(name) {
			return name, nil
		}
	}
	for i := 2; i <= maxSuffix; i++ {
		n := strconv.Itoa(i)
		cand := name + "-" + n
		if len(cand) > MaxNameLen {
			cand = name[:MaxNameLen-len(n)-1] + "-" + n
		}
		if !taken(cand) {
			return cand, nil
		}
	}
	return "", fmt.Errorf("name program %s keeps printing taken names: pass --name explicitly", g.program)
}
