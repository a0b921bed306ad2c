package lenet.service.security;

/** The roles an authenticated caller can hold. */
public final class Roles {

  /** May change what the pipeline does: pin models, start and cancel runs, ingest. */
  public static final String OPERATOR = "operator";

  private Roles() {}
}
