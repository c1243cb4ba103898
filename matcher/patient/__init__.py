"""The patient side: the patient model and its profile format (``model``), the FHIR reader
(``fhir``), and the entry that tells one from the other (``load``). It never imports the
criteria side."""
