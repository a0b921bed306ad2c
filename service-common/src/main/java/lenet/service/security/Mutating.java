package lenet.service.security;

import jakarta.ws.rs.NameBinding;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an endpoint that changes what the pipeline does. Together with {@code
 * RolesAllowed(Roles.OPERATOR)} (the token): {@link MutatingRequestFilter} refuses a request from
 * another site's page and a body that is not JSON, so a cross-site form can never reach it.
 */
@NameBinding
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface Mutating {}
