import DiffusionModels

/// How prompts are read (DiffusionModels' type, named here so that users of the pipeline need not import the models).
public typealias PromptSyntax = DiffusionModels.PromptSyntax
