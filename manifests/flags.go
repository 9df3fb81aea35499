package manifests

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// flagList is the command line of a container as the component's flag
// parser (pflag) sees it: the flags in command after the binary, then args.
// kubeadm writes every flag into command as "--name=value"; hand-edited
// manifests also use "--name value" and args.
type flagList struct {
	c *corev1.Container
	// inCommand is where new flags go: command (kubeadm) or args.
	inCommand bool
}

func newFlagList(c *corev1.Container, binary string) (*flagList, error) {
	if len(c.Command) > 0 && path.Base(c.Command[0]) != binary {
		return nil, fmt.Errorf("manifests: command of container %q runs %q, not %s: certctl only edits flags passed straight to %s; edit this manifest by hand", c.Name, c.Command[0], binary, binary)
	}
	fl := &flagList{c: c, inCommand: len(c.Command) > 0 && (len(c.Args) == 0 || len(c.Command) > 1)}
	if len(c.Command) == 0 && len(c.Args) == 0 {
		return nil, fmt.Errorf("manifests: container %q has neither command nor args: certctl cannot tell where its flags go; edit this manifest by hand", c.Name)
	}
	// A known flag written as "--name" with no value after it is refused:
	// the component itself would refuse to start with it.
	ps := fl.elems()
	for k, p := range ps {
		if name, _, inline := flagElem(*p); !inline && k == len(ps)-1 && (name == flagDuration || slices.Contains(allSigningFlags, name)) {
			return nil, fmt.Errorf("manifests: flag %s of container %q has no value", *p, c.Name)
		}
	}
	return fl, nil
}

// elems returns the elements pflag parses as flags and values, in order,
// up to a "--" terminator.
func (fl *flagList) elems() []*string {
	var ps []*string
	for _, list := range [][]string{fl.c.Command[min(1, len(fl.c.Command)):], fl.c.Args} {
		for i := range list {
			if list[i] == "--" {
				return ps
			}
			ps = append(ps, &list[i])
		}
	}
	return ps
}

// occurrence is one appearance of a flag: "--name=value" (value is nil)
// or "--name" followed by the value element.
type occurrence struct {
	flag, value *string
}

// flagElem splits an element of the command line that names a flag:
// "--name=value", "-name=value" and "--name value" (one element) carry
// their value inline; "--name" alone takes the next element. Only the first
// form is what kubeadm writes, and pflag reads the others differently or not
// at all; certctl finds them all so that it never adds a second copy.
func flagElem(e string) (name, value string, inline bool) {
	if !strings.HasPrefix(e, "-") || e == "-" || e == "--" {
		return "", "", false
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(e, "-"), "-")
	if i := strings.IndexAny(rest, "= "); i >= 0 {
		return rest[:i], rest[i+1:], true
	}
	return rest, "", false
}

// find returns every occurrence of flag name.
func (fl *flagList) find(name string) []occurrence {
	ps := fl.elems()
	var out []occurrence
	for k := 0; k < len(ps); k++ {
		n, _, inline := flagElem(*ps[k])
		switch {
		case n != name:
		case inline:
			out = append(out, occurrence{flag: ps[k]})
		case k+1 < len(ps):
			out = append(out, occurrence{flag: ps[k], value: ps[k+1]})
			k++
		}
	}
	return out
}

// values returns the value of each occurrence of flag name, in order.
func (fl *flagList) values(name string) []string {
	var out []string
	for _, o := range fl.find(name) {
		if o.value != nil {
			out = append(out, *o.value)
		} else {
			_, v, _ := flagElem(*o.flag)
			out = append(out, v)
		}
	}
	return out
}

// Value returns the value of the last occurrence of flag name (pflag keeps
// the last one) and whether the flag is present.
func (fl *flagList) value(name string) (string, bool) {
	vs := fl.values(name)
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// setFlag gives flag name the value v: the first occurrence is changed in
// place, later ones are removed; a missing flag is added. It returns a
// description of the change, or "" when there was nothing to change.
func (fl *flagList) setFlag(name, v string) string {
	occ := fl.find(name)
	old, _ := fl.value(name)
	if len(occ) == 0 {
		fl.insert("--" + name + "=" + v)
		return fmt.Sprintf("add --%s=%s", name, v)
	}
	first := occ[0]
	written := *first.flag
	if len(occ) == 1 && old == v && (first.value != nil || written == "--"+name+"="+v) {
		return ""
	}
	// A changed flag becomes one "--name=value" element, the form kubeadm
	// writes and the only one that shows an empty value plainly.
	*first.flag = "--" + name + "=" + v
	rest := occ[1:]
	if first.value != nil {
		rest = append(rest, occurrence{flag: first.value})
	}
	fl.remove(rest)
	switch {
	case len(occ) > 1:
		return fmt.Sprintf("set --%s=%s (was given %d times, last %q)", name, v, len(occ), old)
	case old == v:
		return fmt.Sprintf("set --%s=%s (was written %q)", name, v, written)
	case old == "":
		return fmt.Sprintf("set --%s=%s (was empty)", name, v)
	}
	return fmt.Sprintf("set --%s=%s (was %s)", name, v, old)
}

// removeFlag removes every occurrence of flag name and describes it.
func (fl *flagList) removeFlag(name string) string {
	occ := fl.find(name)
	if len(occ) == 0 {
		return ""
	}
	old, _ := fl.value(name)
	fl.remove(occ)
	if old == "" {
		return fmt.Sprintf("remove --%s (was empty)", name)
	}
	return fmt.Sprintf("remove --%s (was %s)", name, old)
}

// remove deletes the elements of occ (flags and their separate values).
func (fl *flagList) remove(occ []occurrence) {
	drop := map[*string]bool{}
	for _, o := range occ {
		drop[o.flag] = true
		if o.value != nil {
			drop[o.value] = true
		}
	}
	if len(drop) == 0 {
		return
	}
	keep := func(list []string) []string {
		var out []string
		for i := range list {
			if !drop[&list[i]] {
				out = append(out, list[i])
			}
		}
		return out
	}
	if len(fl.c.Command) > 0 {
		fl.c.Command = keep(fl.c.Command)
	}
	if len(fl.c.Args) > 0 {
		fl.c.Args = keep(fl.c.Args) // nil when every element goes
	}
}

// insert adds a "--name=value" element. kubeadm sorts flags by name; when
// the list is sorted the new flag goes to its sorted place, otherwise to the
// end, before a "--" terminator.
func (fl *flagList) insert(elem string) {
	list, start := &fl.c.Args, 0
	if fl.inCommand {
		list, start = &fl.c.Command, 1
	}
	end := len(*list)
	if i := slices.Index((*list)[start:], "--"); i >= 0 {
		end = start + i
	}
	flags := (*list)[start:end]
	at := end
	if sorted(flags) {
		at = start + sort.Search(len(flags), func(i int) bool { return flagName(flags[i]) >= flagName(elem) })
	}
	*list = append((*list)[:at], append([]string{elem}, (*list)[at:]...)...)
}

// sorted reports whether every element is a "--name=value" flag and the
// names are in order, as kubeadm writes them.
func sorted(flags []string) bool {
	for i, f := range flags {
		if !strings.HasPrefix(f, "--") || !strings.Contains(f, "=") {
			return false
		}
		if i > 0 && flagName(flags[i-1]) > flagName(f) {
			return false
		}
	}
	return true
}

func flagName(elem string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(elem, "--"), "=")
	return name
}
