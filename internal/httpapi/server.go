package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/invoice"
)

// Orders reads orders.
type Orders interface {
	// Order returns one order or ENOTFOUND.
	Order(ctx context.Context, shop string, id int64) (dropsync.Order, error)
	// Orders lists a shop's orders newest first, optionally in one state.
	Orders(ctx context.Context, shop string, state dropsync.OrderState, limit int) ([]dropsync.Order, error)
}

// Mappings reads and replaces a shop's supplier mappings.
type Mappings interface {
	Mappings(ctx context.Context, shop string) ([]dropsync.Mapping, error)
	// ReplaceMappings swaps all of a shop's rows atomically and returns the new version.
	ReplaceMappings(ctx context.Context, shop string, rows []dropsync.Mapping) (int64, error)
}

// Releaser resumes held and failed orders (ECONFLICT for other states).
type Releaser interface {
	Release(ctx context.Context, shop string, id int64, override bool, note string) (dropsync.Order, error)
}

// Invoices reads issued invoices and credit notes (ENOTFOUND when unknown).
type Invoices interface {
	Invoice(ctx context.Context, number string) (invoice.Invoice, error)
}

// Intake queues supplier events (EUNAVAILABLE when it could not).
type Intake interface {
	AcceptSupplierEvent(ctx context.Context, ev dropsync.SupplierEvent) error
}

// EventParser authenticates and decodes one supplier's webhook deliveries: EUNAUTHORIZED
// for a bad signature, EINVALID for a body it cannot read.
type EventParser interface {
	ParseEvent(header http.Header, query url.Values, body []byte) ([]dropsync.SupplierEvent, error)
}

// Pinger reports whether a dependency answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are what the HTTP surface serves from. Any may be nil in a process that does not
// serve that part.
type Deps struct {
	Orders    Orders
	Mappings  Mappings
	Releaser  Releaser
	Invoices  Invoices
	Intake    Intake
	Suppliers map[string]EventParser
	Redis     Pinger
	Exports   Exports
}

// Server is dropsync's one HTTP listener's handler.
type Server struct {
	cfg  *config.Config
	deps Deps
	mux  *http.ServeMux
	log  zerolog.Logger
	now  func() time.Time
}

// New builds the handler with every dropsync route; cmd mounts the storefront receiver,
// the dashboard and metrics with Handle.
func New(cfg *config.Config, deps Deps, log zerolog.Logger) *Server {
	s := &Server{cfg: cfg, deps: deps, mux: http.NewServeMux(), log: log, now: time.Now}
	s.mux.HandleFunc("/", NotFound)
	s.mux.HandleFunc("/healthz", methods(s.healthz, http.MethodGet))
	s.mux.HandleFunc("/readyz", methods(s.readyz, http.MethodGet))
	s.mux.HandleFunc("/webhooks/suppliers/{supplier}", methods(s.supplierEvent, http.MethodPost))
	s.routeAdmin()
	return s
}

// Handle mounts another handler on the listener.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP logs each request (method, path, status, duration; never bodies or queries,
// which may hold customer data) with a logger in the request's context.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	log := s.log.With().Str("method", r.Method).Str("path", r.URL.Path).Logger()
	r = r.WithContext(log.WithContext(r.Context()))
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			log.Error().Interface("panic", v).Msg("handler panicked")
			if !rec.wrote {
				writeErrorBody(rec, http.StatusInternalServerError, dropsync.EINTERNAL, "internal error")
			}
		}
		ev := log.Debug()
		if rec.status >= 500 {
			ev = log.Warn()
		}
		ev.Int("status", rec.status).Dur("took", time.Since(start)).Msg("http request")
	}()
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (the dashboard) flush through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the original writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.deps.Redis == nil {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.deps.Redis.Ping(ctx); err != nil {
		writeErrorBody(w, http.StatusServiceUnavailable, dropsync.EUNAVAILABLE, "redis is not reachable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "redis": "ok"})
}

// supplierEvent receives POST /webhooks/suppliers/{supplier}: authenticated by the
// supplier's kind, then queued; 200 only once queued.
func (s *Server) supplierEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("supplier")
	parser, ok := s.deps.Suppliers[id]
	if !ok || s.deps.Intake == nil {
		WriteError(w, r, dropsync.Errorf(dropsync.ENOTFOUND, "unknown supplier %q", id))
		return
	}
	body, err := ReadBody(w, r, s.cfg.HTTP.MaxBodyBytes)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	events, err := parser.ParseEvent(r.Header, r.URL.Query(), body)
	if err != nil {
		if dropsync.ErrorCode(err) == dropsync.EINVALID {
			zerolog.Ctx(r.Context()).Warn().Str("supplier", id).Str("error", dropsync.ErrorMessage(err)).
				Msg("supplier event rejected")
		}
		WriteError(w, r, err)
		return
	}
	for _, ev := range events {
		ev.Supplier = id
		if err := s.deps.Intake.AcceptSupplierEvent(r.Context(), ev); err != nil {
			WriteError(w, r, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "event not queued"))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "queued", "events": len(events)})
}

// ReadBody reads a request body up to limit bytes: a larger body is ETOOLARGE and is not
// read on.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = 2 << 20
	}
	if r.ContentLength > limit {
		return nil, dropsync.Errorf(dropsync.ETOOLARGE, "body of %d bytes is over the %d byte limit", r.ContentLength, limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, dropsync.Errorf(dropsync.ETOOLARGE, "body is over the %d byte limit", limit)
		}
		return nil, dropsync.Wrap(dropsync.EINVALID, err, "read body")
	}
	return b, nil
}

// RequireAdmin lets a request through only with the admin token, as a bearer token or as
// the password of HTTP basic auth (any user name), compared in constant time.
func (s *Server) RequireAdmin(h http.Handler) http.Handler {
	return RequireToken(s.cfg.Admin.Token, h)
}

// RequireToken is RequireAdmin for a given token.
func RequireToken(token string, h http.Handler) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var got string
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
			got = strings.TrimSpace(strings.TrimPrefix(a, "Bearer "))
		} else if _, pw, ok := r.BasicAuth(); ok {
			got = pw
		}
		if len(want) == 0 || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="dropsync", charset="UTF-8"`)
			writeErrorBody(w, http.StatusUnauthorized, dropsync.EUNAUTHORIZED, "missing or wrong admin token")
			return
		}
		h.ServeHTTP(w, r)
	})
}
