package learnws

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/learnws/learnws/lab"
)

// The live byte lab (package lab) and its pages: the lab itself, the
// spectator view, the decoder and the handshake checker. Each page is also a
// demo that lessons embed.
func init() {
	RegisterDemo("lab", Demo{Path: "lab", TitleKey: "lab.title", Nav: true, Size: "l", Order: 10})
	RegisterDemo("decoder", Demo{Path: "decoder", TitleKey: "lab.decoder.title", Nav: true, Size: "l", Order: 20})
	RegisterDemo("handshake-checker", Demo{Path: "handshake-checker", TitleKey: "lab.checker.title", Nav: true, Size: "l", Order: 30})
}

// labPageData is the Data of the lab's templates.
type labPageData struct {
	Mode    string            // "lab", "watch", "decoder", "checker"
	Session string            // the watched session (watch mode)
	Strings map[string]string // lab.* strings for the page's script
	Scripts []lab.Script      // the scripted bad clients
	MaxMsg  int64
	Hex     string // decoder: ?hex= prefill (the fragment #… is read by the script)
}

// labRoutes mounts the lab:
//
//	GET  /ws/lab                      the lab WebSocket (our handshake and framing, same origin only; other methods: 405)
//	GET  /api/lab/events/:id          the session's annotated events (Server-Sent Events)
//	POST /api/lab/decode              {"hex": …} → annotated frames
//	POST /api/lab/build               frame fields → bytes, annotated
//	POST /api/lab/check-handshake     {"request": …, "response": …} → findings
//	GET  /{lang}/lab, /{lang}/watch/:id, /{lang}/decoder, /{lang}/handshake-checker
func (s *Server) labRoutes(r *gin.Engine) {
	l := lab.New(lab.Options{TrackConn: s.TrackConn, Logger: s.log})
	s.OnShutdown(l.Close)

	// Any method, so that a POST gets the handshake's 405 with "Allow: GET", as on
	// /ws/echo, not the router's 404 page.
	r.Any("/ws/lab", func(c *gin.Context) { l.ServeWS(c.Writer, c.Request) })
	r.GET("/api/lab/events/:id", func(c *gin.Context) {
		// Shutdown closes the registry (OnShutdown), which ends every stream;
		// http.Server.Shutdown then has nothing left to wait for.
		l.ServeEvents(c.Writer, c.Request, c.Param("id"))
	})
	r.POST("/api/lab/decode", func(c *gin.Context) { l.ServeDecode(c.Writer, c.Request) })
	r.POST("/api/lab/build", func(c *gin.Context) { l.ServeBuild(c.Writer, c.Request) })
	r.POST("/api/lab/check-handshake", func(c *gin.Context) { l.ServeCheck(c.Writer, c.Request) })

	for _, lang := range languages {
		r.GET("/"+lang+"/lab", func(c *gin.Context) { s.labPage(c, l, lang, "lab", "") })
		r.GET("/"+lang+"/watch/:id", func(c *gin.Context) {
			id := c.Param("id")
			if l.Session(id) == nil {
				s.renderPage(c, http.StatusNotFound, "lab/gone.html", Page{Lang: lang, Title: s.site().t(lang, "lab.gone.title"), Nav: "lab"})
				return
			}
			s.labPage(c, l, lang, "watch", id)
		})
		r.GET("/"+lang+"/decoder", func(c *gin.Context) { s.labPage(c, l, lang, "decoder", "") })
		r.GET("/"+lang+"/handshake-checker", func(c *gin.Context) { s.labPage(c, l, lang, "checker", "") })
	}
}

func (s *Server) labPage(c *gin.Context, l *lab.Lab, lang, mode, id string) {
	st := s.site()
	strs := map[string]string{}
	for k, v := range st.strings[lang] {
		if strings.HasPrefix(k, "lab.") {
			strs[k] = v
		}
	}
	d := labPageData{Mode: mode, Session: id, Strings: strs, Scripts: lab.Scripts, MaxMsg: l.Registry().Limits().MaxMessage}
	tmpl, title, nav := "lab/lab.html", "lab.title", "lab"
	switch mode {
	case "watch":
		title = "lab.watch.title"
	case "decoder":
		tmpl, title, nav = "lab/decoder.html", "lab.decoder.title", "decoder"
		d.Hex = c.Query("hex")
	case "checker":
		tmpl, title, nav = "lab/checker.html", "lab.checker.title", "handshake-checker"
	}
	s.renderPage(c, http.StatusOK, tmpl, Page{Lang: lang, Title: st.t(lang, title), Nav: nav, Data: d, Description: st.t(lang, title+".description")})
}
