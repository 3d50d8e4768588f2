package learnws

// The lesson site: pages, lessons, static assets, strings in two languages, and the
// middleware every response goes through.
//
// # Page API (for every area of the site: lab, realtime, …)
//
// A page is one file web/templates/<area>/<page>.html that defines the templates
// "title" and "content", and optionally "head" (extra <link rel="stylesheet"> or
// <script type="module" src=…> tags for that page). web/templates/layout.html draws
// the frame around it: header with navigation, language switch, theme and "big"
// (projector) toggles, and footer. Every template file is parsed once at start-up,
// once per language.
//
// Render a page from a handler with
//
//	s.renderPage(c, http.StatusOK, "lab/lab.html", Page{Lang: lang, Title: "…", Data: yourData})
//
// renderPage executes into a buffer first: if the template fails, the reader gets the
// 500 page (never Go error text) and the error is logged. renderNotFound(c) and
// renderError(c, err) draw the 404 and 500 pages in the reader's language.
//
// Template functions (bound to the page's language):
//
//	t "key"             translated string from web/i18n/<lang>/*.json (missing key → the key itself)
//	tf "key" args…      the same, then fmt.Sprintf with args
//	thtml "key"         translated string as trusted HTML (catalog strings only, never user input)
//	asset "area/x.js"   content-hashed URL of web/static/area/x.js: "/static/area/x.js?v=<hash>";
//	                    an unknown path fails the render (and the tests)
//	lang                "en" or "zh"
//	otherLang           the other one
//	langName "zh"       "English" / "中文"
//	href "lab"          "/<lang>/lab" — a site path in the page's language
//	altLangURL .Path    the same path in the other language ("/en/lab" → "/zh/lab")
//	json v              v as JSON text, for data-* attributes (no inline script: the CSP forbids it)
//
// Page fields filled in by renderPage: Path (request path), Embed (true when the URL has
// ?embed=1: the page is shown inside a lesson's demo panel, so the layout drops header and
// footer), Nav (leave empty or set to your area's nav key to highlight it).
//
// Strings: web/i18n/en/<area>.json and web/i18n/zh/<area>.json, flat {"key": "text"};
// all files are merged at start-up (prefix keys with the area: "lab.send"); a key missing
// in either language fails TestI18nKeysBothLanguages.
//
// Static files: web/static/<area>/…, served under /static/ from memory with an ETag;
// a URL carrying the right ?v= hash (from asset) is cached for a year ("immutable").
// Only ES modules and external scripts: the Content-Security-Policy forbids inline
// script and inline style (including style="" attributes).
//
// Demos: RegisterDemo(name, Demo{Path, TitleKey, Nav, Size, Order}) (render_blocks.go),
// called from an init function, makes the page /<lang>/<Path> embeddable in a lesson
// with a ```demo NAME block (an iframe of /<lang>/<Path>?embed=1 plus a link to the full
// page); Nav also links it in the header. lessons_test.go fails on an unknown name.
//
// Query parameters every page understands (web/static/site/prefs.js): ?theme=dark|light
// and ?big=1 override the reader's stored choice for that page (a projector link).
//
// Middleware: siteMiddleware sets the security headers on every response, logs every
// request with log/slog, and turns a panic into the readable 500 page.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Languages the site is written in; the first is the default.
var languages = []string{"en", "zh"}

var languageNames = map[string]string{"en": "English", "zh": "中文"}

// Page is what every page template receives as its dot.
type Page struct {
	Lang  string // "en" or "zh"
	Title string // <title>, before " · learnws"
	Data  any    // the area's own data

	// Description is an optional <meta name="description">.
	Description string
	// Nav highlights a header entry ("lessons", or a demo's nav key).
	Nav string

	// Filled in by renderPage.
	Path  string // request path, for altLangURL
	Embed bool   // ?embed=1: shown inside a lesson's demo panel, no header/footer
	// NavItems are the header links (lessons + registered demos with Nav set).
	NavItems []NavItem
}

// NavItem is one link in the header.
type NavItem struct {
	Key, Label, URL string
}

// site is everything the site renders from: parsed templates, strings, assets and
// rendered lessons. It is built once per process from the embedded files (they never
// change while the binary runs) and shared by every Server.
type site struct {
	strings map[string]map[string]string             // lang → key → text
	pages   map[string]map[string]*template.Template // lang → page name → template
	static  map[string]*staticFile                   // path under web/static
	lessons *lessonSet
}

var (
	siteOnce  sync.Once
	theSite   *site
	siteError error
)

// loadSite builds the site once per process.
func loadSite() (*site, error) {
	siteOnce.Do(func() {
		theSite, siteError = buildSite(content)
	})
	return theSite, siteError
}

func buildSite(fsys fs.FS) (*site, error) {
	st := &site{}
	var err error
	if st.strings, err = loadStrings(fsys); err != nil {
		return nil, err
	}
	if st.static, err = loadStatic(fsys); err != nil {
		return nil, err
	}
	st.static["site/chroma.css"] = newStaticFile("chroma.css", chromaCSS())
	if st.pages, err = st.parseTemplates(fsys); err != nil {
		return nil, err
	}
	if st.lessons, err = loadLessons(fsys); err != nil {
		return nil, err
	}
	if err := st.prerenderLessons(); err != nil {
		return nil, err
	}
	return st, nil
}

// site returns the shared site; NewServer has already failed if it could not load.
func (s *Server) site() *site {
	st, _ := loadSite()
	return st
}

// ---------------------------------------------------------------------------
// strings

func loadStrings(fsys fs.FS) (map[string]map[string]string, error) {
	out := make(map[string]map[string]string)
	for _, lang := range languages {
		out[lang] = make(map[string]string)
		dir := "web/i18n/" + lang
		files, err := fs.Glob(fsys, dir+"/*.json")
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, err
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for k, v := range m {
				if _, dup := out[lang][k]; dup {
					return nil, fmt.Errorf("%s: key %q is defined twice", f, k)
				}
				out[lang][k] = v
			}
		}
	}
	return out, nil
}

// t translates key into lang; a missing key shows as itself (and fails the i18n test).
func (st *site) t(lang, key string) string {
	if v, ok := st.strings[lang][key]; ok {
		return v
	}
	if v, ok := st.strings[languages[0]][key]; ok {
		return v
	}
	return key
}

// ---------------------------------------------------------------------------
// static files

type staticFile struct {
	body  []byte
	hash  string // first 12 hex digits of SHA-256
	etag  string // `"<hash>"`
	ctype string
}

func loadStatic(fsys fs.FS) (map[string]*staticFile, error) {
	out := make(map[string]*staticFile)
	err := fs.WalkDir(fsys, "web/static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "web/static/")
		out[rel] = newStaticFile(rel, b)
		return nil
	})
	return out, err
}

func newStaticFile(name string, b []byte) *staticFile {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:6])
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js", ".mjs":
		ctype = "text/javascript; charset=utf-8"
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".svg":
		ctype = "image/svg+xml"
	case ".woff2":
		ctype = "font/woff2"
	}
	if ctype == "" {
		ctype = http.DetectContentType(b)
	}
	return &staticFile{body: b, hash: h, etag: `"` + h + `"`, ctype: ctype}
}

// assetURL is the content-hashed URL of web/static/<p>.
func (st *site) assetURL(p string) (string, error) {
	f, ok := st.static[strings.TrimPrefix(p, "/")]
	if !ok {
		return "", fmt.Errorf("asset %q: no such file under web/static", p)
	}
	return "/static/" + strings.TrimPrefix(p, "/") + "?v=" + f.hash, nil
}

// serveStatic answers /static/*path from memory. With the right ?v= hash the response
// may be cached for a year; without it the browser revalidates with If-None-Match.
func (s *Server) serveStatic(c *gin.Context) {
	st := s.site()
	p := strings.TrimPrefix(c.Param("path"), "/")
	f, ok := st.static[p]
	if !ok {
		s.renderNotFound(c)
		return
	}
	h := c.Writer.Header()
	h.Set("ETag", f.etag)
	if v := c.Query("v"); v != "" && v == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	writeCached(c, f.etag, f.ctype, f.body)
}

// writeCached writes body with the given ETag, answering 304 when the browser already
// has it.
func writeCached(c *gin.Context, etag, ctype string, body []byte) {
	h := c.Writer.Header()
	h.Set("ETag", etag)
	if inm := c.Request.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		c.Status(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		return
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Status(http.StatusOK)
	if c.Request.Method == http.MethodHead {
		c.Writer.WriteHeaderNow()
		return
	}
	_, _ = c.Writer.Write(body)
}

func etagMatch(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || strings.TrimPrefix(part, "W/") == etag {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// templates

// funcs returns the template functions bound to lang.
func (st *site) funcs(lang string) template.FuncMap {
	other := otherLang(lang)
	return template.FuncMap{
		"t":  func(key string) string { return st.t(lang, key) },
		"tf": func(key string, args ...any) string { return fmt.Sprintf(st.t(lang, key), args...) },
		"thtml": func(key string) template.HTML {
			return template.HTML(st.t(lang, key)) // catalog strings only: trusted
		},
		"asset":      st.assetURL,
		"lang":       func() string { return lang },
		"otherLang":  func() string { return other },
		"langName":   func(l string) string { return languageNames[l] },
		"href":       func(p string) string { return "/" + lang + "/" + strings.TrimPrefix(p, "/") },
		"altLangURL": altLangURL,
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"add": func(a, b int) int { return a + b },
	}
}

func otherLang(lang string) string {
	if lang == "zh" {
		return "en"
	}
	return "zh"
}

// altLangURL returns p in the other language: "/en/lessons/x" → "/zh/lessons/x".
// A path without a language prefix ("/") goes to the other language's home.
func altLangURL(p string) string {
	for _, l := range languages {
		if p == "/"+l || strings.HasPrefix(p, "/"+l+"/") {
			return "/" + otherLang(l) + strings.TrimPrefix(p, "/"+l)
		}
	}
	return "/" + languages[1] + "/"
}

// parseTemplates parses layout.html with every page file, once per language.
func (st *site) parseTemplates(fsys fs.FS) (map[string]map[string]*template.Template, error) {
	const root = "web/templates/"
	layout, err := fs.ReadFile(fsys, root+"layout.html")
	if err != nil {
		return nil, err
	}
	var pages []string
	err = fs.WalkDir(fsys, "web/templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") || p == root+"layout.html" {
			return err
		}
		pages = append(pages, strings.TrimPrefix(p, root))
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]*template.Template)
	for _, lang := range languages {
		out[lang] = make(map[string]*template.Template)
		for _, name := range pages {
			body, err := fs.ReadFile(fsys, root+name)
			if err != nil {
				return nil, err
			}
			t, err := template.New("layout.html").Funcs(st.funcs(lang)).Parse(string(layout))
			if err != nil {
				return nil, fmt.Errorf("web/templates/layout.html: %w", err)
			}
			if _, err := t.New(name).Parse(string(body)); err != nil {
				return nil, fmt.Errorf("web/templates/%s: %w", name, err)
			}
			out[lang][name] = t
		}
	}
	return out, nil
}

// execute renders page name for p into a new buffer.
func (st *site) execute(name string, p Page) ([]byte, error) {
	if !slices.Contains(languages, p.Lang) {
		p.Lang = languages[0]
	}
	t, ok := st.pages[p.Lang][name]
	if !ok {
		return nil, fmt.Errorf("template %q: no such page under web/templates", name)
	}
	if p.NavItems == nil {
		p.NavItems = st.navItems(p.Lang)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (st *site) navItems(lang string) []NavItem {
	items := []NavItem{{Key: "lessons", Label: st.t(lang, "site.nav.lessons"), URL: "/" + lang + "/lessons"}}
	for _, d := range demosInOrder() {
		if d.Nav {
			items = append(items, NavItem{Key: d.Name, Label: st.t(lang, d.TitleKey), URL: "/" + lang + "/" + d.Path})
		}
	}
	return items
}

// renderPage renders web/templates/<name> inside the layout and writes it with status.
// A template error is logged and answered with the 500 page.
func (s *Server) renderPage(c *gin.Context, status int, name string, p Page) {
	st := s.site()
	if p.Lang == "" {
		p.Lang = requestLang(c.Request)
	}
	if p.Path == "" {
		p.Path = c.Request.URL.Path
	}
	p.Embed = p.Embed || c.Query("embed") == "1"
	b, err := st.execute(name, p)
	if err != nil {
		s.renderError(c, fmt.Errorf("render %s: %w", name, err))
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.Data(status, "text/html; charset=utf-8", b)
}

// renderNotFound answers 404 with the not-found page in the reader's language.
func (s *Server) renderNotFound(c *gin.Context) {
	lang := requestLang(c.Request)
	st := s.site()
	b, err := st.execute("site/404.html", Page{Lang: lang, Title: st.t(lang, "site.404.title"), Path: c.Request.URL.Path})
	if err != nil {
		s.renderError(c, err)
		return
	}
	c.Data(http.StatusNotFound, "text/html; charset=utf-8", b)
	c.Abort()
}

// renderError logs err and answers 500 with the error page. The reader sees a plain
// apology in their language, never err.
func (s *Server) renderError(c *gin.Context, err error) {
	s.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	if c.Writer.Written() {
		c.Abort()
		return
	}
	lang := requestLang(c.Request)
	st := s.site()
	b, err2 := st.execute("site/error.html", Page{Lang: lang, Title: st.t(lang, "site.error.title"), Path: c.Request.URL.Path})
	if err2 != nil {
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("500 internal server error\n"))
	} else {
		c.Data(http.StatusInternalServerError, "text/html; charset=utf-8", b)
	}
	c.Abort()
}

// requestLang is the reader's language: the path's prefix (/zh/…) if any, else the
// best match in Accept-Language, else English.
func requestLang(r *http.Request) string {
	p := r.URL.Path
	for _, l := range languages {
		if p == "/"+l || strings.HasPrefix(p, "/"+l+"/") {
			return l
		}
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// acceptLanguage picks en or zh from an Accept-Language header ("zh-CN,zh;q=0.9,en;q=0.8").
func acceptLanguage(h string) string {
	best, bestQ := languages[0], -1.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		primary, _, _ := strings.Cut(tag, "-")
		if slices.Contains(languages, primary) && q > bestQ && q > 0 {
			best, bestQ = primary, q
		}
	}
	return best
}

// ---------------------------------------------------------------------------
// middleware

// siteMiddleware must run first for every route: NewServer calls it before any route
// is registered (gin applies Use only to routes registered after it).
func (s *Server) siteMiddleware(r *gin.Engine) {
	r.Use(s.securityHeaders, s.requestLog, s.recoverPage)
}

// securityHeaders sets the headers every response carries. A handler that needs a
// different policy (an inline script with a nonce) sets its own
// Content-Security-Policy after this has run.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy(c.Request.Host))
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	c.Next()
}

// contentSecurityPolicy allows the site itself and its own WebSocket endpoints only.
// Browsers before CSP level 3 do not count ws: as 'self', hence the explicit host.
func contentSecurityPolicy(host string) string {
	base := "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
		"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'; connect-src 'self'"
	if validHost(host) {
		return base + " ws://" + host + " wss://" + host
	}
	return base
}

// validHost accepts host[:port] made of the characters a host name, an IPv4 or a
// bracketed IPv6 address can have, so the Host header cannot inject into the policy.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '.' || r == '-' || r == ':' || r == '[' || r == ']':
		default:
			return false
		}
	}
	return true
}

// requestLog writes one structured line per request.
func (s *Server) requestLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	size := c.Writer.Size()
	if size < 0 {
		size = 0
	}
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	s.log.Log(c.Request.Context(), level, "request",
		"method", c.Request.Method,
		"path", c.Request.URL.Path,
		"status", c.Writer.Status(),
		"duration", time.Since(start),
		"bytes", size,
		"remote", c.ClientIP(),
	)
}

// recoverPage turns a panic into the readable 500 page and a log line with the stack.
func (s *Server) recoverPage(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log.Error("handler panic", "method", c.Request.Method, "path", c.Request.URL.Path,
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		s.renderError(c, errors.New("panic"))
	}()
	c.Next()
}

// ---------------------------------------------------------------------------
// routes

// siteRoutes registers the home page, the lessons, the static files and the 404 page.
func (s *Server) siteRoutes(r *gin.Engine) {
	if _, err := loadSite(); err != nil {
		s.setupError(fmt.Errorf("site: %w", err))
		return
	}
	r.GET("/", s.home)
	r.HEAD("/", s.home)
	r.GET("/static/*path", s.serveStatic)
	r.HEAD("/static/*path", s.serveStatic)
	for _, lang := range languages {
		r.GET("/"+lang, func(c *gin.Context) { c.Redirect(http.StatusFound, "/"+lang+"/") })
		r.GET("/"+lang+"/", s.home)
		r.GET("/"+lang+"/lessons", s.lessonIndex)
		r.GET("/"+lang+"/lessons/:slug", s.lessonPage)
		r.HEAD("/"+lang+"/lessons/:slug", s.lessonPage)
		r.GET("/"+lang+"/accept", s.acceptPage)
	}
	r.NoRoute(s.renderNotFound)
}

// homeData is the home page's Data.
type homeData struct {
	Lessons []*lessonMeta
	LANURLs []string
}

func (s *Server) home(c *gin.Context) {
	lang := requestLang(c.Request)
	if c.Request.URL.Path == "/" {
		c.Header("Vary", "Accept-Language")
	}
	st := s.site()
	s.renderPage(c, http.StatusOK, "site/home.html", Page{
		Lang:  lang,
		Title: st.t(lang, "site.home.title"),
		Nav:   "home",
		Data:  homeData{Lessons: st.lessons.index(lang), LANURLs: LANURLs(s.cfg.Addr)},
	})
}

// acceptData is the Data of site/accept.html.
type acceptData struct {
	Key, Accept string
	Derivation  template.HTML
}

// acceptPage computes Sec-WebSocket-Accept for the reader's key (?key=…, optionally
// &accept=… to check a value seen in a capture), on the server: it works with
// JavaScript off. It is also the "accept" demo.
func (s *Server) acceptPage(c *gin.Context) {
	lang := requestLang(c.Request)
	st := s.site()
	key := strings.TrimSpace(c.Query("key"))
	accept := strings.TrimSpace(c.Query("accept"))
	if len(key) > 200 {
		key = key[:200]
	}
	if len(accept) > 200 {
		accept = accept[:200]
	}
	d := acceptData{Key: key, Accept: accept}
	if key != "" {
		d.Derivation = template.HTML(renderDerivation(lang, key, accept, "", ""))
	}
	s.renderPage(c, http.StatusOK, "site/accept.html", Page{Lang: lang, Title: st.t(lang, "site.accept.title"), Data: d})
}
