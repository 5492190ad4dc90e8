package handlers

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ucm-gateway/ucm-gateway/internal/auth"
)

// GET /v1/units pages like every other list, over the units the key may use only.
func TestUnitsListingIsPaged(t *testing.T) {
	key, k := testKey(t, "branches", []auth.Scope{auth.ScopeRead}, "b1", "b2", "b3")
	e := newAccessEnv(t, access{keys: []auth.Key{k}, extraUnits: []string{"b1", "b2", "b3", "b4"}})
	type page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
		Next  *string `json:"next_page_token"`
		Total int     `json:"total_items"`
	}
	get := func(key, path string) (page, http.Header) {
		code, h, body := e.doAs(t, key, "GET", path, "", "")
		require.Equal(t, http.StatusOK, code, "%s", body)
		var p page
		require.NoError(t, json.Unmarshal(body, &p))
		return p, h
	}

	p, h := get(adminKey, "/v1/units?page_size=2")
	require.Len(t, p.Items, 2)
	assert.Equal(t, 5, p.Total)
	assert.Equal(t, "demo", p.Items[0].ID)
	require.NotNil(t, p.Next)
	assert.Equal(t, `</v1/units?page_size=2&page_token=`+*p.Next+`>; rel="next"`, h.Get("Link"))
	var ids []string
	for {
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if p.Next == nil {
			assert.Empty(t, h.Get("Link"), "no Link on the last page")
			break
		}
		p, h = get(adminKey, "/v1/units?page_size=2&page_token="+*p.Next)
	}
	assert.Equal(t, []string{"demo", "b1", "b2", "b3", "b4"}, ids, "every unit once, in configuration order")

	p, _ = get(key, "/v1/units")
	assert.Equal(t, 3, p.Total, "a key sees only its units")
	assert.Len(t, p.Items, 3)
	assert.Nil(t, p.Next)

	code, _, body := e.doAs(t, adminKey, "GET", "/v1/units?page_size=3&page_token=eyJwIjoyLCJzIjoyfQ", "", "")
	assert.Equal(t, http.StatusBadRequest, code, "a token of another page size: %s", body)
	assert.Equal(t, 0, e.sim.Counters().Challenges, "listing units never contacts a unit")
}
