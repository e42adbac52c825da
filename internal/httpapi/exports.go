package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redisstore"
)

// Exports reads the customer data exports produced for customers/data_request.
type Exports interface {
	// Export returns one export or ENOTFOUND.
	Export(ctx context.Context, shop string, requestID int64) (redisstore.DataExport, error)
	// Exports lists the shop's export request ids, newest first.
	Exports(ctx context.Context, shop string) ([]int64, error)
}

func (s *Server) routeExports(admin func(string, http.HandlerFunc)) {
	admin("/api/v1/shops/{shop}/data-requests", methods(s.listExports, http.MethodGet))
	admin("/api/v1/shops/{shop}/data-requests/{id}", methods(s.getExport, http.MethodGet))
}

func (s *Server) listExports(w http.ResponseWriter, r *http.Request) {
	shop, err := s.shopParam(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	ids, err := s.deps.Exports.Exports(r.Context(), shop)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if ids == nil {
		ids = []int64{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"shop": shop, "data_requests": ids})
}

// getExport returns what dropsync holds about a customer, for the merchant to hand over.
func (s *Server) getExport(w http.ResponseWriter, r *http.Request) {
	shop, err := s.shopParam(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		WriteError(w, r, dropsync.Errorf(dropsync.ENOTFOUND, "no data request %q", r.PathValue("id")))
		return
	}
	e, err := s.deps.Exports.Export(r.Context(), shop, id)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}
