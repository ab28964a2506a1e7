"""The pathway in HL7 FHIR R4B: an SDC Questionnaire, a PlanDefinition and its CodeSystem.

Pure Python apart from the ``fhir.resources`` models and ``fhirpathpy``: no Django import, so the
export, the QuestionnaireResponse of a walk and the check that the export decides what the engine
decides run anywhere (command line, API, publish gate, tests).
"""
