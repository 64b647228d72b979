package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
	"github.com/bangerdev/banger/scripts"
)

func newImageCmd(e *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Build and manage read-only base images"}
	cmd.AddCommand(newImageListCmd(e, nil), newImageShowCmd(e, nil), newImageDeleteCmd(e, nil), newImageBuildCmd(e, nil), newImageSaveCmd(e, nil))
	return cmd
}

func newImageListCmd(e *Env, runF func(*NoArgsOptions) error) *cobra.Command {
	cmd := noArgsCmd("list", "List images", func(cmd *cobra.Command) error {
		return runWith(cmd, e, &NoArgsOptions{}, runF, imageListRun)
	})
	cmd.Aliases = []string{"ls"}
	return cmd
}

func imageListRun(ctx context.Context, e *Env, _ *NoArgsOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	ims, err := b.ListImages(ctx)
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
			rows = append(rows, []string{im.Name, src, units.HumanSize(im.Size), fmt.Sprint(len(im.UsedBy)), e.age(im.CreatedAt)})
		}
		return table(w, []string{"NAME", "SOURCE", "SIZE", "VMS", "AGE"}, rows)
	})
}

// ImageShowOptions are the arguments of `banger image show`.
type ImageShowOptions struct {
	Name string
}

func newImageShowCmd(e *Env, runF func(*ImageShowOptions) error) *cobra.Command {
	o := &ImageShowOptions{}
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show an image",
		Args:  exactArgs(1, "an image name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return runWith(cmd, e, o, runF, imageShowRun)
		},
	}
}

func imageShowRun(ctx context.Context, e *Env, o *ImageShowOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	im, err := b.GetImage(ctx, o.Name)
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
}

// ImageDeleteOptions are the arguments of `banger image delete`.
type ImageDeleteOptions struct {
	Name string
}

func newImageDeleteCmd(e *Env, runF func(*ImageDeleteOptions) error) *cobra.Command {
	o := &ImageDeleteOptions{}
	return &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete an image no VM uses",
		Args:    exactArgs(1, "an image name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return runWith(cmd, e, o, runF, imageDeleteRun)
		},
	}
}

func imageDeleteRun(ctx context.Context, e *Env, o *ImageDeleteOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	if err := b.DeleteImage(ctx, o.Name); err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "image %s deleted\n", o.Name)
	return nil
}

// ImageBuildOptions are the flags of `banger image build`.
type ImageBuildOptions struct {
	Name     string
	Base     string
	Docker   bool
	Packages []string
	Size     string
}

// request validates the flags and builds the API request.
func (o *ImageBuildOptions) request() (api.BuildImageRequest, error) {
	req := api.BuildImageRequest{Name: o.Name, Base: o.Base, Docker: o.Docker, Packages: o.Packages}
	if o.Size != "" {
		n, err := units.ParseSize(o.Size)
		if err != nil {
			return req, fmt.Errorf("invalid --size %q: %v; use a size like 4G", o.Size, err)
		}
		req.Size = n
	}
	return req, nil
}

func newImageBuildCmd(e *Env, runF func(*ImageBuildOptions) error) *cobra.Command {
	o := &ImageBuildOptions{}
	cmd := &cobra.Command{
		Use:   "build --name NAME [--docker] [--package PKG...]",
		Short: "Build an image: boot the base image with NAT, provision it (customize.sh), save the result",
		Long: `Build an image the way you would by hand, with no host mounts: boot a
throwaway VM with NAT from --base (default: the bundle's plain base image
"base", else "default"), run the provisioning of the bundle's customize.sh
(apt packages, --docker) and then the config's customize_script as root over
SSH, power it off and save its root disk as a new read-only image.`,
		Example: `  banger image build --name docker-dev --docker
  banger image build --name tools --package ripgrep --package jq`,
		Args: exactArgs(0, "no arguments (use --name)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Name == "" {
				return fmt.Errorf("image build needs --name; see 'banger image build --help'")
			}
			return runWith(cmd, e, o, runF, imageBuildRun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "name of the new image")
	f.StringVar(&o.Base, "base", "", "image to start from (default: the bundle's plain base image \"base\", else \"default\")")
	f.BoolVar(&o.Docker, "docker", false, "install Docker Engine ("+strings.Join(scripts.DockerPackages, ", ")+"; socket-activated)")
	f.StringArrayVar(&o.Packages, "package", nil, "apt package to install (repeatable)")
	f.StringVar(&o.Size, "size", "", "grow the saved image's filesystem to SIZE (room for later installs)")
	return cmd
}

func imageBuildRun(ctx context.Context, e *Env, o *ImageBuildOptions) error {
	req, err := o.request()
	if err != nil {
		return err
	}
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	im, err := b.BuildImage(ctx, req, e.progressPrinter())
	if err != nil {
		return err
	}
	return e.render(im, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "image %s built (%s); use it with 'banger vm create --image %s'\n", im.Name, units.HumanSize(im.Size), im.Name)
		return err
	})
}
