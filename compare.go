package learnws

// The real-time comparison: one event feed delivered by short polling, long
// polling, a forever frame, Server-Sent Events and WebSocket, each measured on
// the wire (package realtime), one page per technique and a race page with all
// five side by side.
//
// Routes:
//
//	/{lang}/realtime                  index of the techniques
//	/{lang}/realtime/{technique}      one technique (short-polling, long-polling, iframe-streaming, sse, websocket)
//	/{lang}/realtime/race             all five at once, with live charts
//	/realtime/api/...                 the transports and figures (realtime.Handler)

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/learnws/learnws/realtime"
)

// realtimeAPI is where realtime.Handler is mounted.
const realtimeAPI = "/realtime/api"

// The pages start with one event per second and a short poll every 500 ms:
// polls outnumber events, as in the lessons' comparison.
const (
	realtimeRate     = 1.0
	realtimeInterval = 500
)

func init() {
	RegisterDemo("realtime-race", Demo{Path: "realtime/race", TitleKey: "realtime.race.title", Nav: true, Size: "l", Order: 30})
	for i, t := range realtime.Techniques {
		RegisterDemo("realtime-"+string(t), Demo{Path: "realtime/" + string(t), TitleKey: "realtime." + string(t) + ".title", Size: "m", Order: 31 + i})
	}
}

// realtimeData is the Data of the realtime pages.
type realtimeData struct {
	Technique  string   // the page's technique; "" on the race and index pages
	Techniques []string // all five, in order
	API        string
	Strings    map[string]string // realtime.js.* strings for the page's script
	Interval   int               // default short-polling interval, ms
	Rate       float64           // default event rate
}

func (s *Server) compareRoutes(r *gin.Engine) {
	h := realtime.NewHandler(realtime.Config{Rate: realtimeRate, Track: s.TrackConn, Logger: s.log})
	s.OnShutdown(h.Close)
	api := gin.WrapH(http.StripPrefix(realtimeAPI, h))
	r.GET(realtimeAPI+"/*path", api)
	r.POST(realtimeAPI+"/*path", api)
	for _, lang := range languages {
		r.GET("/"+lang+"/realtime", func(c *gin.Context) { s.realtimePage(c, lang, "index") })
		r.GET("/"+lang+"/realtime/:page", func(c *gin.Context) { s.realtimePage(c, lang, c.Param("page")) })
	}
}

func (s *Server) realtimePage(c *gin.Context, lang, page string) {
	data := realtimeData{API: realtimeAPI, Interval: realtimeInterval, Rate: realtimeRate, Strings: s.realtimeStrings(lang)}
	for _, t := range realtime.Techniques {
		data.Techniques = append(data.Techniques, string(t))
	}
	tmpl, title := "realtime/technique.html", ""
	switch {
	case page == "index":
		tmpl, title = "realtime/index.html", "realtime.index.title"
	case page == "race":
		tmpl, title = "realtime/race.html", "realtime.race.title"
	case slices.Contains(data.Techniques, page):
		data.Technique = page
		title = "realtime." + page + ".title"
	default:
		s.renderNotFound(c)
		return
	}
	st := s.site()
	s.renderPage(c, http.StatusOK, tmpl, Page{Lang: lang, Title: st.t(lang, title), Data: data, Nav: "realtime-race",
		Description: st.t(lang, "realtime.description")})
}

// realtimeStrings are the strings the page script needs (keys realtime.js.*,
// passed without the prefix).
func (s *Server) realtimeStrings(lang string) map[string]string {
	out := map[string]string{}
	for k := range s.site().strings[lang] {
		if name, ok := strings.CutPrefix(k, "realtime.js."); ok {
			out[name] = s.site().t(lang, k)
		}
	}
	return out
}
