package analyze

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// WriteText prints r as a table, worst first, with a header giving the
// score and a footer saying how it is computed.
func (r *Report) WriteText(w io.Writer) error {
	name := r.Component
	if name == "" {
		name = "(unnamed component)"
	}
	fmt.Fprintf(w, "%s: exposure %.1f/10 %s (10 = most exposed)\n\n", name, r.Score, r.Rating)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tPOINTS\tITEM\tFIRST USED BY\tWHY")
	for _, f := range r.Findings {
		points := "-"
		if f.Points > 0 {
			points = strconv.FormatFloat(f.Points, 'f', -1, 64)
		}
		by := f.By
		if by == "" {
			by = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Severity, points, f.Item, by, f.Why)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	_, err := fmt.Fprintf(w, "\nscore = 10 x (1 - e^(-points/%d)) = %.1f for %s points in all; severity: critical >= 10 points, high >= 5, medium >= 2\n",
		Scale, r.Score, strconv.FormatFloat(r.Points, 'f', -1, 64))
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteJSON prints r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
