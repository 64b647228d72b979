package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

// ImageSaveOptions are the arguments and flags of `banger image save`.
type ImageSaveOptions struct {
	// VM is the VM whose root disk is saved.
	VM string
	// Name is the new image's name.
	Name string
	// Stop powers a running VM off first.
	Stop bool
}

func newImageSaveCmd(e *Env, runF func(*ImageSaveOptions) error) *cobra.Command {
	o := &ImageSaveOptions{}
	cmd := &cobra.Command{
		Use:   "save VM --name NAME [--stop]",
		Short: "Save a stopped VM's root disk as a new read-only image",
		Long: `Save a VM's root disk (its image plus everything changed under /, not the
/root work disk) as a new read-only image that new VMs can start from.
The VM must be stopped; --stop powers a running one off first. The VM is
left stopped and unchanged.`,
		Example: `  banger vm stop web && banger image save web --name web-tools
  banger image save web --name web-tools --stop`,
		Args: exactArgs(1, "a VM name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.VM = args[0]
			if o.Name == "" {
				return fmt.Errorf("image save needs --name for the new image; see 'banger image save --help'")
			}
			return runWith(cmd, e, o, runF, imageSaveRun)
		},
	}
	cmd.Flags().StringVar(&o.Name, "name", "", "name of the new image")
	cmd.Flags().BoolVar(&o.Stop, "stop", false, "power the VM off first when it is running")
	return cmd
}

func imageSaveRun(ctx context.Context, e *Env, o *ImageSaveOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	im, err := b.SaveImage(ctx, api.SaveImageRequest{VM: o.VM, Name: o.Name, Stop: o.Stop}, e.progressPrinter())
	if err != nil {
		return err
	}
	return e.render(im, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "image %s saved from %s (%s); use it with 'banger vm create --image %s'\n", im.Name, o.VM, units.HumanSize(im.Size), im.Name)
		return err
	})
}
