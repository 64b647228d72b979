package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

func newImageCmd(e *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Build and manage read-only base images"}
	cmd.AddCommand(newImageListCmd(e), newImageShowCmd(e), newImageDeleteCmd(e), newImageBuildCmd(e, nil))
	return cmd
}

func newImageListCmd(e *Env) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List images",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			ims, err := c.ListImages(cmd.Context())
			if err != nil {
				return err
			}
			if ims == nil {
				ims = []api.Image{}
			}
			return e.render(ims, func(w io.Writer) error {
				rows := make([][]string, 0, len(ims))
				for _, im := range ims {
					src := "built"
					if im.Builtin {
						src = "bundle"
					}
					rows = append(rows, []string{im.Name, src, units.HumanSize(im.Size), fmt.Sprint(len(im.UsedBy)), age(im.CreatedAt)})
				}
				return table(w, []string{"NAME", "SOURCE", "SIZE", "VMS", "AGE"}, rows)
			})
		},
	}
}

func newImageShowCmd(e *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show an image",
		Args:  exactArgs(1, "an image name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			im, err := c.GetImage(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return e.render(im, func(w io.Writer) error {
				return kv(w, [][2]string{
					{"name", im.Name}, {"path", im.Path}, {"size", units.HumanSize(im.Size)},
					{"kernel", im.Kernel}, {"initrd", dash(im.Initrd)}, {"modules", dash(im.Modules)},
					{"builtin", fmt.Sprint(im.Builtin)}, {"created", im.CreatedAt.Local().Format("2006-01-02 15:04:05")},
					{"packages", dash(strings.Join(im.Packages, " "))}, {"used by", dash(strings.Join(im.UsedBy, ", "))},
				})
			})
		},
	}
}

func newImageDeleteCmd(e *Env) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete an image no VM uses",
		Args:    exactArgs(1, "an image name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteImage(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.Out, "image %s deleted\n", args[0])
			return nil
		},
	}
}

// ImageBuildOptions are the flags of `banger image build`.
type ImageBuildOptions struct {
	Name     string
	Base     string
	Docker   bool
	Packages []string
	Size     string
}

func newImageBuildCmd(e *Env, runF func(*ImageBuildOptions) error) *cobra.Command {
	o := &ImageBuildOptions{}
	cmd := &cobra.Command{
		Use:   "build --name NAME [--docker] [--package PKG...]",
		Short: "Build an image: boot the base image with NAT, install packages, save the result",
		Example: `  banger image build --name docker-dev --docker
  banger image build --name tools --package ripgrep --package jq`,
		Args: exactArgs(0, "no arguments (use --name)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Name == "" {
				return fmt.Errorf("image build needs --name; see 'banger image build --help'")
			}
			if runF != nil {
				return runF(o)
			}
			req := api.BuildImageRequest{Name: o.Name, Base: o.Base, Docker: o.Docker, Packages: o.Packages}
			if o.Size != "" {
				n, err := units.ParseSize(o.Size)
				if err != nil {
					return fmt.Errorf("invalid --size %q: %v; use a size like 4G", o.Size, err)
				}
				req.Size = n
			}
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			im, err := c.BuildImage(cmd.Context(), req, e.progressPrinter())
			if err != nil {
				return err
			}
			return e.render(im, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "image %s built (%s); use it with 'banger vm create --image %s'\n", im.Name, units.HumanSize(im.Size), im.Name)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "name of the new image")
	f.StringVar(&o.Base, "base", "", "image to start from (default: the bundle's default image)")
	f.BoolVar(&o.Docker, "docker", false, "install Docker (docker.io)")
	f.StringArrayVar(&o.Packages, "package", nil, "apt package to install (repeatable)")
	f.StringVar(&o.Size, "size", "", "grow the image filesystem to SIZE first")
	return cmd
}
