package learnws

// Lessons: lessons/{lang}/NN-slug.md, parsed with goldmark (GitHub-flavoured Markdown,
// front matter, explicit heading IDs), rendered once at start-up. The same parse
// function (parseLesson) serves the site and lessons_test.go.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/gin-gonic/gin"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"go.abhg.dev/goldmark/frontmatter"

	highlighting "github.com/yuin/goldmark-highlighting/v2"
)

// frontMatter is a lesson's YAML header.
type frontMatter struct {
	Title   string `yaml:"title"`
	Summary string `yaml:"summary"`
	Minutes int    `yaml:"minutes"` // reading time, shown in the index
}

// lessonMeta is what the index and the home page show about a lesson.
type lessonMeta struct {
	Lang, Slug       string
	Order            int
	Title, Summary   string
	Minutes          int
	URL              string
	File             string // "lessons/en/01-why-websocket.md"
	HasBlocksChecked int    // number of verified blocks
}

// tocEntry is one heading in a lesson's table of contents.
type tocEntry struct {
	Level int
	ID    string
	Text  string
}

// lesson is one rendered lesson.
type lesson struct {
	lessonMeta
	Doc        *lessonDoc
	HTML       template.HTML
	TOC        []tocEntry
	Prev, Next *lessonMeta
	page       []byte // the whole page, rendered once
	etag       string
}

// lessonDoc is a parsed lesson: the Markdown AST plus what the site and the tests need
// from it.
type lessonDoc struct {
	File     string // path inside the repository, for messages: "lessons/en/02-opening-handshake.md"
	Lang     string
	Source   []byte
	Root     ast.Node
	Meta     frontMatter
	Blocks   []*specialBlock // the special fenced blocks, in order
	Headings []tocEntry      // every heading with its id
	Links    []docLink       // every link destination
	md       goldmark.Markdown
}

// docLink is a link in a lesson, with the line it is on.
type docLink struct {
	Dest string
	Line int
}

// markdowns holds one goldmark instance per language (block renderers print labels in
// the lesson's language).
var markdowns = map[string]goldmark.Markdown{}

func init() {
	for _, lang := range languages {
		markdowns[lang] = newMarkdown(lang)
	}
}

// newMarkdown builds the goldmark pipeline for lessons in lang.
func newMarkdown(lang string) goldmark.Markdown {
	exts := []goldmark.Extender{
		extension.GFM,
		&frontmatter.Extender{},
		highlighting.NewHighlighting(
			highlighting.WithFormatOptions(chromahtml.WithClasses(true)),
			highlighting.WithGuessLanguage(false),
		),
		&blocksExtension{lang: lang},
	}
	if lang == "zh" {
		// No stray spaces where a Chinese sentence wraps in the source. (Only for
		// Chinese: in English text this style also eats spaces after ")" and code.)
		exts = append(exts, extension.NewCJK(
			extension.WithEastAsianLineBreaks(extension.EastAsianLineBreaksCSS3Draft),
			extension.WithEscapedSpace()))
	}
	return goldmark.New(
		goldmark.WithExtensions(exts...),
		goldmark.WithParserOptions(
			parser.WithAttribute(), // ## Heading {#id}: the same ids in every language
			parser.WithAutoHeadingID(),
		),
		goldmark.WithRendererOptions(html.WithUnsafe()), // lessons are ours; allows <sup> etc.
	)
}

// parseLesson parses one lesson file. file is the path inside the repository
// ("lessons/zh/02-opening-handshake.md"); its folder names the language.
func parseLesson(file string, src []byte) (*lessonDoc, error) {
	lang := path.Base(path.Dir(file))
	md, ok := markdowns[lang]
	if !ok {
		return nil, fmt.Errorf("%s: unknown language folder %q", file, lang)
	}
	ctx := parser.NewContext()
	root := md.Parser().Parse(text.NewReader(src), parser.WithContext(ctx))
	doc := &lessonDoc{File: file, Lang: lang, Source: src, Root: root, md: md}
	if fm := frontmatter.Get(ctx); fm != nil {
		if err := fm.Decode(&doc.Meta); err != nil {
			return nil, fmt.Errorf("%s: front matter: %w", file, err)
		}
	}
	if doc.Meta.Title == "" {
		return nil, fmt.Errorf("%s:1: front matter has no title", file)
	}
	err := ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *specialBlock:
			n.File = file
			doc.Blocks = append(doc.Blocks, n)
		case *ast.Heading:
			id, _ := n.AttributeString("id")
			idb, _ := id.([]byte)
			doc.Headings = append(doc.Headings, tocEntry{Level: n.Level, ID: string(idb), Text: nodeText(n, src)})
		case *ast.Link:
			doc.Links = append(doc.Links, docLink{Dest: string(n.Destination), Line: nodeLine(n, src)})
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// render turns the parsed lesson into HTML.
func (d *lessonDoc) render() ([]byte, error) {
	var buf bytes.Buffer
	if err := d.md.Renderer().Render(&buf, d.Source, d.Root); err != nil {
		return nil, fmt.Errorf("%s: %w", d.File, err)
	}
	return buf.Bytes(), nil
}

// nodeText is the plain text of an inline container (a heading, a link).
func nodeText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			for ch := c.FirstChild(); ch != nil; ch = ch.NextSibling() {
				if t, ok := ch.(*ast.Text); ok {
					b.Write(t.Segment.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// nodeLine is the 1-based line of the first text of n (0 if unknown).
func nodeLine(n ast.Node, src []byte) int {
	for c := n; c != nil; c = c.Parent() {
		if c.Type() == ast.TypeBlock && c.Lines().Len() > 0 {
			return lineAt(src, c.Lines().At(0).Start)
		}
		if t, ok := c.(*ast.Text); ok {
			return lineAt(src, t.Segment.Start)
		}
		if fc := c.FirstChild(); fc != nil {
			if t, ok := fc.(*ast.Text); ok {
				return lineAt(src, t.Segment.Start)
			}
		}
	}
	return 0
}

func lineAt(src []byte, off int) int {
	if off > len(src) {
		off = len(src)
	}
	return bytes.Count(src[:off], []byte("\n")) + 1
}

// ---------------------------------------------------------------------------
// the set of lessons

type lessonSet struct {
	byLang map[string][]*lesson          // in order
	bySlug map[string]map[string]*lesson // lang → slug → lesson
}

// lessonFiles lists lessons/{lang}/*.md.
func lessonFiles(fsys fs.FS) (map[string][]string, error) {
	out := make(map[string][]string)
	for _, lang := range languages {
		files, err := fs.Glob(fsys, "lessons/"+lang+"/*.md")
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		out[lang] = files
	}
	return out, nil
}

// slugOf splits "lessons/en/02-opening-handshake.md" into 2 and "opening-handshake".
func slugOf(file string) (int, string, error) {
	base := strings.TrimSuffix(path.Base(file), ".md")
	num, slug, ok := strings.Cut(base, "-")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || slug == "" {
		return 0, "", fmt.Errorf("%s: lesson files are named NN-slug.md", file)
	}
	return n, slug, nil
}

func loadLessons(fsys fs.FS) (*lessonSet, error) {
	files, err := lessonFiles(fsys)
	if err != nil {
		return nil, err
	}
	set := &lessonSet{byLang: map[string][]*lesson{}, bySlug: map[string]map[string]*lesson{}}
	for _, lang := range languages {
		set.bySlug[lang] = map[string]*lesson{}
		for _, f := range files[lang] {
			order, slug, err := slugOf(f)
			if err != nil {
				return nil, err
			}
			src, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, err
			}
			doc, err := parseLesson(f, src)
			if err != nil {
				return nil, err
			}
			body, err := doc.render()
			if err != nil {
				return nil, err
			}
			l := &lesson{
				lessonMeta: lessonMeta{
					Lang: lang, Slug: slug, Order: order, Title: doc.Meta.Title, Summary: doc.Meta.Summary,
					Minutes: doc.Meta.Minutes, URL: "/" + lang + "/lessons/" + slug, File: f,
					HasBlocksChecked: countChecked(doc),
				},
				Doc:  doc,
				HTML: template.HTML(body),
			}
			for _, h := range doc.Headings {
				if (h.Level == 2 || h.Level == 3) && h.ID != "" {
					l.TOC = append(l.TOC, h)
				}
			}
			if _, dup := set.bySlug[lang][slug]; dup {
				return nil, fmt.Errorf("%s: slug %q used twice", f, slug)
			}
			set.bySlug[lang][slug] = l
			set.byLang[lang] = append(set.byLang[lang], l)
		}
		ls := set.byLang[lang]
		for i, l := range ls {
			if i > 0 {
				l.Prev = &ls[i-1].lessonMeta
			}
			if i+1 < len(ls) {
				l.Next = &ls[i+1].lessonMeta
			}
		}
	}
	return set, nil
}

// countChecked is the number of a lesson's examples that go test verifies (demo
// blocks place a demo; they verify nothing).
func countChecked(doc *lessonDoc) int {
	n := 0
	for _, b := range doc.Blocks {
		if b.Block != "demo" {
			n++
		}
	}
	return n
}

func (set *lessonSet) index(lang string) []*lessonMeta {
	var out []*lessonMeta
	for _, l := range set.byLang[lang] {
		out = append(out, &l.lessonMeta)
	}
	return out
}

// lessonView is the Data of site/lesson.html.
type lessonView struct {
	*lesson
	Position, Count int
}

// prerender renders every lesson page once (called after all templates are parsed).
func (st *site) prerenderLessons() error {
	for _, lang := range languages {
		ls := st.lessons.byLang[lang]
		for i, l := range ls {
			b, err := st.execute("site/lesson.html", Page{
				Lang: lang, Title: l.Title, Description: l.Summary, Nav: "lessons",
				Path: l.URL, Data: lessonView{lesson: l, Position: i + 1, Count: len(ls)},
			})
			if err != nil {
				return fmt.Errorf("%s: %w", l.File, err)
			}
			sum := sha256.Sum256(b)
			l.page = b
			l.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		}
	}
	return nil
}

// lessonPage serves a pre-rendered lesson.
func (s *Server) lessonPage(c *gin.Context) {
	lang := requestLang(c.Request)
	l, ok := s.site().lessons.bySlug[lang][c.Param("slug")]
	if !ok || l.page == nil {
		s.renderNotFound(c)
		return
	}
	c.Header("Cache-Control", "no-cache")
	writeCached(c, l.etag, "text/html; charset=utf-8", l.page)
}

// lessonIndex lists the lessons of one language.
func (s *Server) lessonIndex(c *gin.Context) {
	lang := requestLang(c.Request)
	st := s.site()
	s.renderPage(c, http.StatusOK, "site/lessons.html", Page{
		Lang: lang, Title: st.t(lang, "site.lessons.title"), Nav: "lessons",
		Data: st.lessons.index(lang),
	})
}

// ---------------------------------------------------------------------------
// syntax highlighting colours

// chromaCSS is the stylesheet for highlighted code (classes, no inline styles): a light
// style by default, a dark one under [data-theme=dark] and under prefers-color-scheme:
// dark unless the reader chose light. Generated from chroma's own styles at start-up,
// served as /static/site/chroma.css.
func chromaCSS() []byte {
	var out bytes.Buffer
	out.WriteString("/* generated at start-up from chroma styles github (light) and dracula (dark); see render_lessons.go */\n")
	write := func(style *chroma.Style, prefix string) {
		var b bytes.Buffer
		_ = chromahtml.New(chromahtml.WithClasses(true)).WriteCSS(&b, style)
		for _, line := range strings.Split(b.String(), "\n") {
			_, rule, ok := strings.Cut(line, "*/ ")
			if !ok || strings.HasPrefix(rule, ".bg ") || strings.HasPrefix(rule, ".chroma {") {
				continue // backgrounds come from site.css
			}
			out.WriteString(prefix + rule + "\n")
		}
	}
	write(styles.Get("github"), "")
	write(styles.Get("dracula"), `:root[data-theme="dark"] `)
	out.WriteString("@media (prefers-color-scheme: dark) {\n")
	write(styles.Get("dracula"), `:root:not([data-theme="light"]) `)
	out.WriteString("}\n")
	return out.Bytes()
}

// ---------------------------------------------------------------------------
// goldmark extension: the special blocks

type blocksExtension struct{ lang string }

func (e *blocksExtension) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithASTTransformers(util.Prioritized(blocksTransformer{}, 100)))
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(&blocksRenderer{lang: e.lang}, 100)))
}
