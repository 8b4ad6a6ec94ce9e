package config

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Format is a configuration document's syntax.
type Format int

// Formats Infinispan writes its configuration in.
const (
	FormatAuto Format = iota
	FormatXML
	FormatYAML
	FormatJSON
)

// element is a format-neutral view of a configuration document: XML
// elements, and JSON/YAML objects, become the same tree so that one
// interpreter serves all three formats.
type element struct {
	name     string // kebab-case, as in XML
	line     int
	attrs    map[string]attr
	children []*element
}

type attr struct {
	value string
	line  int
}

// sniff guesses a document's format from its first non-space byte.
func sniff(data []byte) Format {
	t := bytes.TrimLeftFunc(data, unicode.IsSpace)
	switch {
	case len(t) > 0 && t[0] == '<':
		return FormatXML
	case len(t) > 0 && t[0] == '{':
		return FormatJSON
	}
	return FormatYAML
}

// parseTree reads a document into an element tree, expanding ${}
// expressions in every value.
func parseTree(data []byte, f Format, ex *expander) (*element, error) {
	if f == FormatAuto {
		f = sniff(data)
	}
	if f == FormatXML {
		return parseXML(data, ex)
	}
	return parseYAML(data, ex) // YAML is a superset of JSON, with positions
}

func parseXML(data []byte, ex *expander) (*element, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	var stack []*element
	var root *element
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineAt(d.InputOffset()), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &element{name: t.Name.Local, line: lineAt(start) + leadingNewlines(data, start), attrs: map[string]attr{}}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" || a.Name.Space == "xsi" ||
					strings.HasSuffix(a.Name.Space, "XMLSchema-instance") {
					continue
				}
				v, err := ex.expand(a.Value, e.line)
				if err != nil {
					return nil, err
				}
				e.attrs[a.Name.Local] = attr{v, e.line}
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("line %d: more than one root element", e.line)
				}
				root = e
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && len(bytes.TrimSpace(t)) > 0 {
				e := stack[len(stack)-1]
				v, err := ex.expand(strings.TrimSpace(string(t)), e.line)
				if err != nil {
					return nil, err
				}
				e.attrs["#text"] = attr{v, e.line}
			}
		}
	}
	if root == nil {
		return nil, errors.New("empty document")
	}
	return root, nil
}

// leadingNewlines counts newlines between off and the next '<', since the
// decoder's offset before a start element may sit before whitespace.
func leadingNewlines(data []byte, off int64) int {
	n := 0
	for i := int(off); i < len(data) && data[i] != '<'; i++ {
		if data[i] == '\n' {
			n++
		}
	}
	return n
}

func parseYAML(data []byte, ex *expander) (*element, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("empty document")
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: expected an object", top.Line)
	}
	// A document is an object with one key naming the root element.
	if len(top.Content) != 2 {
		root := &element{name: "#document", line: top.Line, attrs: map[string]attr{}}
		if err := fillFromYAML(root, top, ex); err != nil {
			return nil, err
		}
		return root, nil
	}
	root := &element{name: kebab(top.Content[0].Value), line: top.Content[0].Line, attrs: map[string]attr{}}
	if err := fillFromYAML(root, top.Content[1], ex); err != nil {
		return nil, err
	}
	return root, nil
}

// fillFromYAML converts an object's members: scalars become attributes,
// objects child elements, and lists repeated children (a plural key holds
// children named by its singular, as XML wraps <interface> in
// <interfaces>).
func fillFromYAML(e *element, n *yaml.Node, ex *expander) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		v, err := ex.expand(n.Value, n.Line)
		if err != nil {
			return err
		}
		e.attrs["#text"] = attr{v, n.Line}
		return nil
	case yaml.MappingNode:
	default:
		return fmt.Errorf("line %d: expected an object for %s", n.Line, e.name)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := kebab(k.Value)
		switch v.Kind {
		case yaml.ScalarNode:
			if v.Tag == "!!null" {
				continue
			}
			s, err := ex.expand(v.Value, v.Line)
			if err != nil {
				return err
			}
			e.attrs[name] = attr{s, v.Line}
		case yaml.MappingNode:
			c := &element{name: name, line: k.Line, attrs: map[string]attr{}}
			if err := fillFromYAML(c, v, ex); err != nil {
				return err
			}
			e.children = append(e.children, c)
		case yaml.SequenceNode:
			parent := e
			childName := name
			if s := singular(name); s != name {
				parent = &element{name: name, line: k.Line, attrs: map[string]attr{}}
				e.children = append(e.children, parent)
				childName = s
			}
			for _, item := range v.Content {
				c := &element{name: childName, line: item.Line, attrs: map[string]attr{}}
				if item.Kind == yaml.ScalarNode {
					s, err := ex.expand(item.Value, item.Line)
					if err != nil {
						return err
					}
					c.attrs["#text"] = attr{s, item.Line}
				} else if err := fillFromYAML(c, item, ex); err != nil {
					return err
				}
				parent.children = append(parent.children, c)
			}
		default:
			return fmt.Errorf("line %d: unsupported value for %s", v.Line, k.Value)
		}
	}
	return nil
}

// kebab turns camelCase into the XML schema's kebab-case.
func kebab(s string) string {
	if !strings.ContainsFunc(s, unicode.IsUpper) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// singular returns the element name a plural list key wraps.
func singular(s string) string {
	switch s {
	case "caches", "aliases":
		return s
	}
	if strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss") {
		return strings.TrimSuffix(s, "s")
	}
	return s
}

// expander resolves ${name}, ${name:default} and ${env.NAME} expressions.
type expander struct {
	props map[string]string
	file  string
}

func (x *expander) expand(s string, line int) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		// Find the matching brace, allowing nested expressions.
		depth, j := 0, i
		for ; j < len(s); j++ {
			if strings.HasPrefix(s[j:], "${") {
				depth++
				j++
			} else if s[j] == '}' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		if j >= len(s) {
			return "", x.errorf(line, "unterminated expression in %q", s)
		}
		v, err := x.resolve(s[i+2:j], line)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		s = s[j+1:]
	}
}

func (x *expander) resolve(expr string, line int) (string, error) {
	name, def, hasDef := strings.Cut(expr, ":")
	for _, n := range strings.Split(name, ",") {
		n = strings.TrimSpace(n)
		if env, ok := strings.CutPrefix(n, "env."); ok {
			if v, ok := os.LookupEnv(env); ok {
				return v, nil
			}
			continue
		}
		if v, ok := x.props[n]; ok {
			return v, nil
		}
	}
	if hasDef {
		return x.expand(def, line)
	}
	return "", x.errorf(line, "property %q is not set and has no default", name)
}

func (x *expander) errorf(line int, format string, args ...any) error {
	return &Error{File: x.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Error is a configuration error with its position.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d: ", e.Line)
	} else if e.File != "" {
		b.WriteString(" ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// attrNames returns an element's attribute names, sorted, for stable
// error messages.
func (e *element) attrNames() []string {
	names := make([]string, 0, len(e.attrs))
	for k := range e.attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
