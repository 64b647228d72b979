package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/bangerdev/banger/internal/api"
)

// imageTitles are the columns of the images view, as `banger image list`.
var imageTitles = []string{"NAME", "SOURCE", "SIZE", "VMS", "AGE", "USED BY"}

// buildLog is the live log of the last image build started here.
type buildLog struct {
	name  string
	lines []string
	vp    viewport.Model
	done  bool
	err   error
}

// add appends one line, following the end when the view was there.
func (b *buildLog) add(line string) {
	follow := b.vp.AtBottom()
	b.lines = append(b.lines, line)
	b.vp.SetContent(strings.Join(b.lines, "\n"))
	if follow {
		b.vp.GotoBottom()
	}
}

// finish records how the build ended.
func (b *buildLog) finish(err error) {
	b.done, b.err = true, err
	if err != nil {
		b.add("error: " + err.Error())
	} else {
		b.add("done: image " + b.name + " is ready")
	}
}

// openImages shows the images view and reloads it.
func (m model) openImages() (tea.Model, tea.Cmd) {
	m.screen = screenImages
	return m, imagesCmd(m.ctx, m.be)
}

// gotImages stores a reloaded image list.
func (m model) gotImages(msg imagesMsg) model {
	m.imagesErr, m.imagesDone = msg.err, true
	if msg.err == nil {
		m.images = msg.images
	}
	rows := make([][]string, len(m.images))
	for i, im := range m.images {
		src := "built"
		if im.Builtin {
			src = "bundle"
		}
		rows[i] = []string{im.Name, src, compactBytes(im.Size), fmt.Sprint(len(im.UsedBy)),
			age(m.now().Sub(im.CreatedAt)), dash(strings.Join(im.UsedBy, ","))}
	}
	m.imgList.cols = fitColumns(imageTitles, rows, m.width, 0, 5)
	m.imgList.setRows(rows)
	m.refreshChoices()
	return m
}

// currentImage is the image under the cursor or shown in the image pane.
func (m model) currentImage() (string, bool) {
	if m.screen == screenImage && m.img.image != nil {
		return m.img.image.Name, true
	}
	if row := m.imgList.selected(); row != nil {
		return row[0], true
	}
	return "", false
}

// imagesKey handles a key on the images view, an image or the build log.
func (m model) imagesKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Back):
		if m.screen == screenImages {
			m.screen = screenList
		} else {
			m.screen = screenImages
		}
		return m, nil
	case key.Matches(msg, k.Images):
		m.screen = screenList
		return m, nil
	case key.Matches(msg, k.Build):
		return m.openBuild()
	case key.Matches(msg, k.BuildLog):
		if m.build == nil {
			m.hint = "no image build yet: press b to start one"
			return m, nil
		}
		m.screen = screenBuild
		return m, nil
	}
	if m.screen == screenBuild {
		var cmd tea.Cmd
		m.build.vp, cmd = m.build.vp.Update(msg)
		return m, cmd
	}
	name, ok := m.currentImage()
	switch {
	case key.Matches(msg, k.Up):
		m.imgList.move(-1)
	case key.Matches(msg, k.Down):
		m.imgList.move(1)
	case key.Matches(msg, k.Top):
		m.imgList.setCursor(0)
	case key.Matches(msg, k.Bottom):
		m.imgList.setCursor(len(m.images) - 1)
	case key.Matches(msg, k.ShowImage) && ok && m.screen == screenImages:
		m.screen = screenImage
		m.img = imageMsg{}
		return m, imageCmd(m.ctx, m.be, name)
	case key.Matches(msg, k.Delete) && ok:
		if text, busy := m.busy[imageKey(name)]; busy {
			m.hint = fmt.Sprintf("image %s is busy (%s)", name, text)
			return m, nil
		}
		m.confirm = &confirmation{image: name}
	}
	return m, nil
}

// startImageDelete deletes an image in the background; the daemon refuses
// while VMs use it and names them.
func (m model) startImageDelete(name string) (tea.Model, tea.Cmd) {
	return m.startBusy(imageKey(name), "deleting image "+name, deleteImageCmd(m.ctx, m.be, name))
}

// openBuild shows the image build form.
func (m model) openBuild() (tea.Model, tea.Cmd) {
	if m.build != nil && !m.build.done {
		m.hint = "image " + m.build.name + " is still building: press L for its log"
		return m, nil
	}
	f := &form{kind: formBuild, title: "Build image",
		note: "Boots the base image with NAT, provisions it (customize.sh) and saves the result."}
	f.fields = []field{
		textField("name", "name", "", "e.g. tools", ""),
		{key: "docker", label: "Docker", kind: fieldToggle, hint: "install Docker Engine (socket-activated)"},
		textField("packages", "packages", "", "e.g. ripgrep jq", "space-separated"),
	}
	f.setFocus(0, 1)
	m.form = f
	return m, nil
}

func (m model) submitBuild() (tea.Model, tea.Cmd) {
	f := m.form
	f.clearErrors()
	req := api.BuildImageRequest{Name: f.get("name").value(), Docker: f.get("docker").on,
		Packages: strings.Fields(f.get("packages").value())}
	if req.Name == "" {
		f.get("name").err = "an image build needs a name"
	} else if err := checkName("image", req.Name); err != nil {
		f.get("name").err = err.Error()
	}
	for _, im := range m.images {
		if im.Name == req.Name {
			f.get("name").err = fmt.Sprintf("an image named %q already exists; delete it with 'banger image delete %s' or pick another name", req.Name, req.Name)
		}
	}
	if f.hasErrors() {
		return m, nil
	}
	f.submitting = true
	m.build = &buildLog{name: req.Name, vp: viewport.New(m.width, 1)}
	m.layoutBuild()
	m.build.add(fmt.Sprintf("building image %s (docker %s, packages: %s)", req.Name, onOff(req.Docker), dash(strings.Join(req.Packages, " "))))
	return m.startBusy(imageKey(req.Name), "building image "+req.Name, buildCmd(m.ctx, m.be, m.events, req))
}

// layoutBuild sizes the build log to the body.
func (m *model) layoutBuild() {
	if m.build == nil {
		return
	}
	m.build.vp.Width = m.width
	m.build.vp.Height = max(m.height-chromeLines-1, 1)
	m.build.vp.GotoBottom()
}

// imagesView renders the image list.
func (m model) imagesView() string {
	if !m.imagesDone {
		return "loading images…"
	}
	var b strings.Builder
	if m.imagesErr != nil {
		b.WriteString(errorStyle.Render("error: list images: "+m.imagesErr.Error()) + "\n")
	}
	if len(m.images) == 0 {
		b.WriteString("No images: press b to build one.")
		return b.String()
	}
	b.WriteString(m.imgList.view(nil))
	return b.String()
}

// imageView renders one image as `banger image show` does.
func (m model) imageView() string {
	if m.img.err != nil {
		return errorStyle.Render("error: show image: " + m.img.err.Error())
	}
	im := m.img.image
	if im == nil {
		return "loading image…"
	}
	var b strings.Builder
	b.WriteString(headingStyle.Render("image "+im.Name) + "\n")
	src := "built here"
	if im.Builtin {
		src = "runtime bundle"
	}
	line := func(label, format string, args ...any) { labelLine(&b, label, format, args...) }
	line("source", "%s, created %s (%s ago)", src, im.CreatedAt.Local().Format("2006-01-02 15:04"), age(m.now().Sub(im.CreatedAt)))
	line("size", "%s", humanBytes(im.Size))
	line("path", "%s", dash(im.Path))
	line("kernel", "%s", dash(im.Kernel))
	line("initrd", "%s", dash(im.Initrd))
	line("modules", "%s", dash(im.Modules))
	line("packages", "%s", dash(strings.Join(im.Packages, " ")))
	line("used by", "%s", dash(strings.Join(im.UsedBy, ", ")))
	return b.String()
}

// buildView renders the build log.
func (m model) buildView() string {
	bl := m.build
	state := "running"
	switch {
	case bl.done && bl.err != nil:
		state = "failed"
	case bl.done:
		state = "done"
	}
	return headingStyle.Render("build of image "+bl.name) + "  " + state + "\n" + bl.vp.View()
}
