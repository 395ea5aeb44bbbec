package cases

import (
	"fmt"
	"time"
)

// Template prefills a case: its classification (RSIT), default severity
// and tasks, each task with a due time per severity (the SLA).
type Template struct {
	Name           string         `json:"name"`
	Classification string         `json:"classification"`
	Severity       int            `json:"severity"`
	Tasks          []TemplateTask `json:"tasks"`
}

// TemplateTask is a task of a template: the message key of its title
// (written in the language of the person who opens the case) and its time
// to do per severity 1-4 (index 0 is severity 1).
type TemplateTask struct {
	Key   string           `json:"key"`
	Times [4]time.Duration `json:"times"`
}

// Due is the time allowed for the task at severity sev.
func (t TemplateTask) Due(sev int) time.Duration {
	if sev < 1 || sev > 4 {
		sev = 2
	}
	return t.Times[sev-1]
}

// SLA writes the rule of a task's due time, for the task list: "4h".
func (t TemplateTask) SLA(sev int) string {
	d := t.Due(sev)
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return fmt.Sprintf("%dh", d/time.Hour)
}

const (
	h = time.Hour
	d = 24 * time.Hour
)

// sla is the times of a task at severities low, medium, high and critical.
func sla(low, medium, high, critical time.Duration) [4]time.Duration {
	return [4]time.Duration{low, medium, high, critical}
}

// Templates are the case templates, for the five kinds of case the CSIRT
// handles most. The times follow the CSIRT's service levels: first
// contact within the hour for a critical case.
var Templates = []Template{
	{Name: "phishing", Classification: "fraud/phishing", Severity: 2, Tasks: []TemplateTask{
		{"casetmpl.phishing.1", sla(2*d, d, 4*h, h)},    // Confirm the phishing site and collect the URLs
		{"casetmpl.phishing.2", sla(3*d, d, 8*h, 2*h)},  // Request takedown from the hosting provider and registrar
		{"casetmpl.phishing.3", sla(3*d, d, 8*h, 2*h)},  // Inform the impersonated organisation
		{"casetmpl.phishing.4", sla(3*d, 2*d, d, 4*h)},  // Submit the URLs to the blocklists
		{"casetmpl.phishing.5", sla(10*d, 7*d, 3*d, d)}, // Check the takedown and close
	}},
	{Name: "ransomware", Classification: "malicious-code/infected-system", Severity: 4, Tasks: []TemplateTask{
		{"casetmpl.ransomware.1", sla(d, 8*h, 2*h, h)},        // Contact the organisation and confirm the scope
		{"casetmpl.ransomware.2", sla(d, 8*h, 4*h, 2*h)},      // Advise on containment: isolate, keep evidence, do not pay
		{"casetmpl.ransomware.3", sla(2*d, d, 8*h, 4*h)},      // Collect indicators and the ransom note
		{"casetmpl.ransomware.4", sla(d, d, 12*h, 4*h)},       // Check the NIS2 reporting deadlines of the organisation
		{"casetmpl.ransomware.5", sla(5*d, 3*d, 2*d, d)},      // Share indicators with the constituency and peers
		{"casetmpl.ransomware.6", sla(30*d, 21*d, 14*d, 7*d)}, // Follow up recovery and close
	}},
	{Name: "ddos", Classification: "availability/ddos", Severity: 3, Tasks: []TemplateTask{
		{"casetmpl.ddos.1", sla(d, 4*h, 2*h, h)},      // Confirm the attack and the targets
		{"casetmpl.ddos.2", sla(d, 8*h, 2*h, h)},      // Put the organisation in touch with its provider's scrubbing service
		{"casetmpl.ddos.3", sla(3*d, d, 8*h, 4*h)},    // Collect attacking sources and share them
		{"casetmpl.ddos.4", sla(14*d, 7*d, 3*d, 2*d)}, // Close after the attack has ended
	}},
	{Name: "data_leak", Classification: "information-content-security/data-leak", Severity: 3, Tasks: []TemplateTask{
		{"casetmpl.data_leak.1", sla(2*d, d, 8*h, 2*h)},      // Confirm the leak and what data it holds
		{"casetmpl.data_leak.2", sla(2*d, d, 12*h, 4*h)},     // Inform the organisation and the data protection authority's contact
		{"casetmpl.data_leak.3", sla(3*d, 2*d, d, 8*h)},      // Request removal of the published data
		{"casetmpl.data_leak.4", sla(30*d, 21*d, 14*d, 7*d)}, // Close when the data is removed or the risk accepted
	}},
	{Name: "vulnerability_exploitation", Classification: "intrusions/system-compromise", Severity: 3, Tasks: []TemplateTask{
		{"casetmpl.vulnerability_exploitation.1", sla(2*d, d, 8*h, 2*h)},     // Identify the vulnerability and the affected product
		{"casetmpl.vulnerability_exploitation.2", sla(3*d, d, 8*h, 4*h)},     // Warn the affected organisations
		{"casetmpl.vulnerability_exploitation.3", sla(7*d, 3*d, 2*d, d)},     // Publish or update an advisory
		{"casetmpl.vulnerability_exploitation.4", sla(30*d, 14*d, 7*d, 3*d)}, // Check that the exposed systems are patched
	}},
}

// TemplateByName returns the template with this name, or nil.
func TemplateByName(name string) *Template {
	for i := range Templates {
		if Templates[i].Name == name {
			return &Templates[i]
		}
	}
	return nil
}
